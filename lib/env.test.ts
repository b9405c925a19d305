import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EnvError, parseEnv } from "@/lib/env";

const dirs: string[] = [];
function tmp() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-env-"));
  dirs.push(d);
  return d;
}
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe("parseEnv", () => {
  it("gives embedded defaults: SQLite under the data dir, 127.0.0.1:3000, proxy domain = serving address", () => {
    const dir = tmp();
    const e = parseEnv({ GANTRY_DATA_DIR: dir }, () => {});
    expect(e.mode).toBe("embedded");
    expect(e.databaseUrl).toBe(`file:${path.join(dir, "gantry.db")}`);
    expect(e.host).toBe("127.0.0.1");
    expect(e.port).toBe(3000);
    expect(e.proxyDomain).toBe("127.0.0.1:3000");
    expect(e.proxyDomainIsExplicit).toBe(false);
    expect(e.trustProxy).toBe(false);
    expect(e.allowedPrivateHosts).toEqual([]);
  });

  it("generates the auth secret once in embedded mode, warns, and reuses it", () => {
    const dir = tmp();
    const warn = vi.fn();
    const first = parseEnv({ GANTRY_DATA_DIR: dir }, warn).authSecret;
    const second = parseEnv({ GANTRY_DATA_DIR: dir }, warn).authSecret;
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(second).toBe(first);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(fs.statSync(path.join(dir, "auth-secret")).mode & 0o777).toBe(0o600);
  });

  it("refuses to start in production without AUTH_SECRET and DATABASE_URL, naming both", () => {
    expect(() => parseEnv({ GANTRY_ENV: "production", GANTRY_DATA_DIR: tmp() })).toThrow(EnvError);
    try {
      parseEnv({ GANTRY_ENV: "production", GANTRY_DATA_DIR: tmp() });
    } catch (e) {
      expect((e as EnvError).issues.join("\n")).toMatch(/AUTH_SECRET/);
      expect((e as EnvError).issues.join("\n")).toMatch(/DATABASE_URL/);
    }
  });

  it("reads the pull-log retention (default 90 days) and the shutdown grace (default 30 s)", () => {
    expect(parseEnv({ GANTRY_DATA_DIR: tmp() }, () => {})).toMatchObject({ pullLogDays: 90, shutdownGraceSeconds: 30 });
    expect(parseEnv({ GANTRY_DATA_DIR: tmp(), GANTRY_PULL_LOG_DAYS: "7", GANTRY_SHUTDOWN_GRACE_SECONDS: "0" }, () => {})).toMatchObject({ pullLogDays: 7, shutdownGraceSeconds: 0 });
    expect(() => parseEnv({ GANTRY_DATA_DIR: tmp(), GANTRY_PULL_LOG_DAYS: "0" }, () => {})).toThrow(/GANTRY_PULL_LOG_DAYS/);
    expect(() => parseEnv({ GANTRY_DATA_DIR: tmp(), GANTRY_SHUTDOWN_GRACE_SECONDS: "-1" }, () => {})).toThrow(/GANTRY_SHUTDOWN_GRACE_SECONDS/);
  });

  it("accepts a PostgreSQL URL as well as a SQLite file: URL", () => {
    expect(parseEnv({ DATABASE_URL: "postgresql://gantry@127.0.0.1:5432/gantry", GANTRY_DATA_DIR: tmp() }, () => {}).databaseUrl).toBe("postgresql://gantry@127.0.0.1:5432/gantry");
    expect(parseEnv({ DATABASE_URL: "postgres://u:p@db/gantry?sslmode=require", GANTRY_DATA_DIR: tmp() }, () => {}).databaseUrl).toMatch(/^postgres:/);
    expect(parseEnv({ DATABASE_URL: "file:/tmp/x.db", GANTRY_DATA_DIR: tmp() }, () => {}).databaseUrl).toBe("file:/tmp/x.db");
  });

  it("rejects malformed values with the variable's name", () => {
    expect(() => parseEnv({ PORT: "70000", GANTRY_DATA_DIR: tmp() })).toThrow(/PORT/);
    expect(() => parseEnv({ GANTRY_PROXY_DOMAIN: "https://gantry.example.com/x", GANTRY_DATA_DIR: tmp() })).toThrow(/GANTRY_PROXY_DOMAIN/);
    expect(() => parseEnv({ DATABASE_URL: "mysql://x", GANTRY_DATA_DIR: tmp() })).toThrow(/DATABASE_URL/);
    expect(() => parseEnv({ DATABASE_URL: "/var/lib/gantry.db", GANTRY_DATA_DIR: tmp() })).toThrow(/DATABASE_URL/);
    expect(() => parseEnv({ AUTH_SECRET: "short", GANTRY_DATA_DIR: tmp() })).toThrow(/AUTH_SECRET/);
  });

  it("reads explicit settings", () => {
    const e = parseEnv(
      {
        GANTRY_DATA_DIR: tmp(),
        AUTH_SECRET: "x".repeat(40),
        PORT: "8443",
        GANTRY_PROXY_DOMAIN: "pull.example.com",
        GANTRY_REGISTRY_DOMAIN: "registry.example.com:5000",
        GANTRY_ALLOWED_PRIVATE_HOSTS: " 127.0.0.1/32, registry.internal ,",
        GANTRY_TRUST_PROXY: "true",
      },
      () => {},
    );
    expect(e.authSecret).toBe("x".repeat(40));
    expect(e.proxyDomain).toBe("pull.example.com");
    expect(e.proxyDomainIsExplicit).toBe(true);
    expect(e.registryDomain).toBe("registry.example.com:5000");
    expect(e.allowedPrivateHosts).toEqual(["127.0.0.1/32", "registry.internal"]);
    expect(e.trustProxy).toBe(true);
  });

  it("uses a loopback proxy domain when listening on all interfaces", () => {
    expect(parseEnv({ GANTRY_DATA_DIR: tmp(), HOST: "0.0.0.0", PORT: "4000" }, () => {}).proxyDomain).toBe("127.0.0.1:4000");
  });

  it("counts empty variables as unset: `cp .env.example .env` starts as is", () => {
    const example = fs.readFileSync(path.join(__dirname, "..", ".env.example"), "utf8");
    const vars = Object.fromEntries(
      example
        .split("\n")
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    expect(vars.GANTRY_REGISTRY_DOMAIN).toBe("");
    const e = parseEnv({ ...vars, GANTRY_DATA_DIR: tmp(), DATABASE_URL: "" }, () => {});
    expect(e.registryDomain).toBeUndefined();
    expect(e.proxyDomainIsExplicit).toBe(false);
    expect(e.authSecret.length).toBeGreaterThanOrEqual(32);
    expect(parseEnv({ GANTRY_DATA_DIR: tmp(), PORT: " ", GANTRY_TRUST_PROXY: "" }, () => {})).toMatchObject({ port: 3000, trustProxy: false });
  });

  it("stops start-up on a bad GANTRY_ALLOWED_PRIVATE_HOSTS entry, naming it", () => {
    for (const bad of ["10.0.0.0/33", "10.0.0/8", "300.1.1.1", "http://registry.internal", "registry internal"]) {
      expect(() => parseEnv({ GANTRY_DATA_DIR: tmp(), GANTRY_ALLOWED_PRIVATE_HOSTS: `127.0.0.1/32,${bad}` }, () => {}), bad).toThrow(/GANTRY_ALLOWED_PRIVATE_HOSTS.*is not a host/);
    }
    expect(parseEnv({ GANTRY_DATA_DIR: tmp(), GANTRY_ALLOWED_PRIVATE_HOSTS: "10.0.0.0/8,fd00::/8,::1,registry.internal" }, () => {}).allowedPrivateHosts).toHaveLength(4);
  });

  it("parses GANTRY_TRUST_PROXY as off, one hop, a hop count or a list of proxy addresses", () => {
    const trust = (v: string) => parseEnv({ GANTRY_DATA_DIR: tmp(), GANTRY_TRUST_PROXY: v }, () => {}).trustedProxies;
    expect(trust("false")).toEqual({ kind: "none" });
    expect(trust("true")).toEqual({ kind: "hops", hops: 1 });
    expect(trust("2")).toEqual({ kind: "hops", hops: 2 });
    expect(trust("10.0.0.0/8, 192.0.2.7")).toEqual({ kind: "cidrs", cidrs: ["10.0.0.0/8", "192.0.2.7"] });
    expect(() => trust("sometimes")).toThrow(/GANTRY_TRUST_PROXY/);
  });
});
