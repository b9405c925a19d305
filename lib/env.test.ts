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
    expect(e.urls).toEqual({
      portal: { scheme: "http", host: "127.0.0.1:3000", origin: "http://127.0.0.1:3000" },
      proxy: { scheme: "http", host: "127.0.0.1:3000", origin: "http://127.0.0.1:3000" },
      registry: { scheme: "http", host: "127.0.0.1:3001", origin: "http://127.0.0.1:3001" },
    });
    expect(e.registryDomain).toBe("127.0.0.1:3001");
    expect(e.registry).toEqual({
      enabled: true,
      port: 3001,
      backend: undefined,
      storageDir: path.join(dir, "registry"),
      tokenSigning: undefined,
      teamQuotaBytes: 50 * 2 ** 30,
      maxBlobBytes: 10 * 2 ** 30,
      maxUploadsPerPrincipal: 20,
      maxUploadsPerTeam: 100,
      writeConnectionsPerTeam: 16,
    });
    expect(e.cache).toMatchObject({ maxFills: 64, maxFillsPerTeam: 16 });
    expect(e.minFreeDisk).toBeNull();
    expect(e.http).toEqual({ requestTimeoutMs: 300_000, headersTimeoutMs: 60_000, streamFloor: { windowMs: 30_000, minBytes: 32 * 1024 } });
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
    expect(() => parseEnv({ GANTRY_PROXY_URL: "gantry.example.com", GANTRY_DATA_DIR: tmp() })).toThrow(/GANTRY_PROXY_URL/);
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
        GANTRY_PUBLIC_URL: "https://gantry.example.com",
        GANTRY_PROXY_URL: "https://pull.example.com",
        GANTRY_REGISTRY_URL: "https://registry.example.com:5000",
        GANTRY_ALLOWED_PRIVATE_HOSTS: " 127.0.0.1/32, registry.internal ,",
        GANTRY_TRUST_PROXY: "true",
      },
      () => {},
    );
    expect(e.authSecret).toBe("x".repeat(40));
    expect(e.proxyDomain).toBe("pull.example.com");
    expect(e.registryDomain).toBe("registry.example.com:5000");
    expect(e.urls.portal.origin).toBe("https://gantry.example.com");
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
    expect(vars.GANTRY_PROXY_URL).toBe("");
    expect(vars.GANTRY_REGISTRY_URL).toBe("");
    const warn = vi.fn();
    const e = parseEnv({ ...vars, GANTRY_DATA_DIR: tmp(), DATABASE_URL: "" }, warn);
    expect(e.registryDomain).toBe("127.0.0.1:3001");
    expect(e.urls.proxy.origin).toBe("http://127.0.0.1:3000");
    expect(e.registry.enabled).toBe(true);
    expect(warn.mock.calls.flat().join("\n")).not.toMatch(/deprecated/);
    expect(e.authSecret.length).toBeGreaterThanOrEqual(32);
    expect(parseEnv({ GANTRY_DATA_DIR: tmp(), PORT: " ", GANTRY_TRUST_PROXY: "" }, () => {})).toMatchObject({ port: 3000, trustProxy: false });
  });

  it("stops start-up on a bad GANTRY_ALLOWED_PRIVATE_HOSTS entry, naming it", () => {
    for (const bad of ["10.0.0.0/33", "10.0.0/8", "300.1.1.1", "http://registry.internal", "registry internal"]) {
      expect(() => parseEnv({ GANTRY_DATA_DIR: tmp(), GANTRY_ALLOWED_PRIVATE_HOSTS: `127.0.0.1/32,${bad}` }, () => {}), bad).toThrow(/GANTRY_ALLOWED_PRIVATE_HOSTS.*is not a host/);
    }
    expect(parseEnv({ GANTRY_DATA_DIR: tmp(), GANTRY_ALLOWED_PRIVATE_HOSTS: "10.0.0.0/8,fd00::/8,::1,registry.internal" }, () => {}).allowedPrivateHosts).toHaveLength(4);
  });

  it("reads GANTRY_DNS_SERVERS as IP[:port] entries (default: none, the system resolver) and names a bad one", () => {
    expect(parseEnv({ GANTRY_DATA_DIR: tmp() }, () => {}).dnsServers).toEqual([]);
    expect(parseEnv({ GANTRY_DATA_DIR: tmp(), GANTRY_DNS_SERVERS: "127.0.0.1:5353, 10.0.0.2,[fd00::53]:53,fd00::54" }, () => {}).dnsServers).toEqual(["127.0.0.1:5353", "10.0.0.2", "[fd00::53]:53", "fd00::54"]);
    for (const bad of ["dns.example.com", "127.0.0.1:0", "127.0.0.1:70000", "300.1.1.1", "10.0.0", "[dns]:53", "udp://1.1.1.1"]) {
      expect(() => parseEnv({ GANTRY_DATA_DIR: tmp(), GANTRY_DNS_SERVERS: `127.0.0.1,${bad}` }, () => {}), bad).toThrow(/GANTRY_DNS_SERVERS.*is not a DNS server/);
    }
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

describe("public URLs", () => {
  const urls = (vars: Record<string, string>, warn: (m: string) => void = () => {}) => parseEnv({ GANTRY_DATA_DIR: tmp(), AUTH_SECRET: "x".repeat(40), ...vars }, warn).urls;

  it.each([
    ["http://gantry.lab:3000", { scheme: "http", host: "gantry.lab:3000", origin: "http://gantry.lab:3000" }],
    ["HTTPS://Pull.Example.COM/", { scheme: "https", host: "pull.example.com", origin: "https://pull.example.com" }],
    ["https://pull.example.com:443", { scheme: "https", host: "pull.example.com", origin: "https://pull.example.com" }],
    ["http://pull.example.com:80/", { scheme: "http", host: "pull.example.com", origin: "http://pull.example.com" }],
    ["http://pull.example.com:443", { scheme: "http", host: "pull.example.com:443", origin: "http://pull.example.com:443" }],
    ["https://localhost:08443", { scheme: "https", host: "localhost:8443", origin: "https://localhost:8443" }],
    ["http://10.1.2.3:5000", { scheme: "http", host: "10.1.2.3:5000", origin: "http://10.1.2.3:5000" }],
    ["http://[::1]:3000", { scheme: "http", host: "[::1]:3000", origin: "http://[::1]:3000" }],
  ])("reads %s as scheme + host[:port], default ports dropped", (value, expected) => {
    for (const name of ["GANTRY_PUBLIC_URL", "GANTRY_PROXY_URL", "GANTRY_REGISTRY_URL"] as const) {
      const u = urls({ [name]: value });
      expect(u[name === "GANTRY_PUBLIC_URL" ? "portal" : name === "GANTRY_PROXY_URL" ? "proxy" : "registry"]).toEqual(expected);
    }
  });

  it.each([
    ["gantry.lab:3000", /GANTRY_PROXY_URL: must start with http:\/\/ or https:\/\//],
    ["ftp://gantry.lab", /GANTRY_PROXY_URL: must be an http:\/\/ or https:\/\/ URL, not ftp/],
    ["https://pull.example.com/v2", /GANTRY_PROXY_URL: must not have a path.*"\/v2"/],
    ["https://pull.example.com//", /GANTRY_PROXY_URL: must not have a path/],
    ["https://pull.example.com/?x=1", /GANTRY_PROXY_URL: must not have a query string/],
    ["https://pull.example.com#top", /GANTRY_PROXY_URL: must not have a fragment/],
    ["https://user:pw@pull.example.com", /GANTRY_PROXY_URL: must not contain a user name or password/],
    ["https://pull.example.com:70000", /GANTRY_PROXY_URL: port 70000 is out of range/],
    ["https://pull.example.com:0", /GANTRY_PROXY_URL: port 0 is out of range/],
    ["https://pull_example.com", /GANTRY_PROXY_URL: "pull_example.com" is not a host or host:port/],
    ["https://", /GANTRY_PROXY_URL: "" is not a host or host:port/],
  ])("refuses %s with a message naming the variable", (value, message) => {
    expect(() => urls({ GANTRY_PROXY_URL: value })).toThrow(message);
  });

  it("reads the deprecated GANTRY_*_DOMAIN as https on that host, as written, with one warning each naming the replacement", () => {
    const warn = vi.fn();
    const u = urls({ GANTRY_PROXY_DOMAIN: "Pull.Example.com:443", GANTRY_REGISTRY_DOMAIN: "registry.example.com" }, warn);
    // As written (case, :443): image names, pull secrets and token audiences of existing installs stay the same.
    expect(u.proxy).toEqual({ scheme: "https", host: "Pull.Example.com:443", origin: "https://Pull.Example.com:443" });
    expect(u.registry).toEqual({ scheme: "https", host: "registry.example.com", origin: "https://registry.example.com" });
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[0]?.[0]).toMatch(/^GANTRY_PROXY_DOMAIN is deprecated: set GANTRY_PROXY_URL=https:\/\/Pull\.Example\.com:443/);
    expect(warn.mock.calls[1]?.[0]).toMatch(/^GANTRY_REGISTRY_DOMAIN is deprecated: set GANTRY_REGISTRY_URL=/);
    for (const [m] of warn.mock.calls) expect(m).not.toContain("\n");
  });

  it("lets the URL variable win over its deprecated domain, with a warning", () => {
    const warn = vi.fn();
    const e = parseEnv(
      { GANTRY_DATA_DIR: tmp(), AUTH_SECRET: "x".repeat(40), GANTRY_PROXY_DOMAIN: "old.example.com", GANTRY_PROXY_URL: "http://gantry.lab:3000", GANTRY_REGISTRY_DOMAIN: "old-registry.example.com", GANTRY_REGISTRY_URL: "http://registry.lab:5000" },
      warn,
    );
    expect(e.urls.proxy.origin).toBe("http://gantry.lab:3000");
    expect(e.proxyDomain).toBe("gantry.lab:3000");
    expect(e.urls.registry?.origin).toBe("http://registry.lab:5000");
    expect(e.registryDomain).toBe("registry.lab:5000");
    expect(warn.mock.calls.map(([m]) => m)).toEqual([
      expect.stringMatching(/^GANTRY_PROXY_DOMAIN is deprecated and ignored because GANTRY_PROXY_URL is set/),
      expect.stringMatching(/^GANTRY_REGISTRY_DOMAIN is deprecated and ignored because GANTRY_REGISTRY_URL is set/),
    ]);
  });

  it("keeps the portal and proxy URLs apart", () => {
    const u = urls({ GANTRY_PUBLIC_URL: "https://portal.example.com", GANTRY_PROXY_URL: "https://pull.example.com", PORT: "8080" });
    expect(u.portal.host).toBe("portal.example.com");
    expect(u.proxy.host).toBe("pull.example.com");
    expect(urls({ GANTRY_PROXY_URL: "https://pull.example.com", PORT: "8080" }).portal.origin).toBe("http://127.0.0.1:8080");
  });
});

describe("Gantry's own registry settings", () => {
  const parse = (vars: Record<string, string>, warn: (m: string) => void = () => {}) => parseEnv({ GANTRY_DATA_DIR: tmp(), AUTH_SECRET: "x".repeat(40), ...vars }, warn);

  it("is on and embedded by default, on the port after PORT; a URL of its own means host routing only", () => {
    const e = parse({});
    expect(e.registry).toMatchObject({ enabled: true, port: 3001, backend: undefined });
    expect(e.registry.storageDir).toBe(path.join(e.dataDir, "registry"));
    expect(e.urls.registry?.origin).toBe("http://127.0.0.1:3001");
    expect(parse({ PORT: "8080" }).urls.registry?.origin).toBe("http://127.0.0.1:8081");
    const routed = parse({ GANTRY_REGISTRY_URL: "https://registry.example.com" });
    expect(routed.registry.port).toBeUndefined();
    expect(routed.urls.registry?.origin).toBe("https://registry.example.com");
    const off = parse({ GANTRY_REGISTRY: "off" });
    expect([off.registry.enabled, off.registry.port, off.urls.registry]).toEqual([false, undefined, undefined]);
  });

  it("takes an operator's token signing key and certificate, both or neither", () => {
    expect(parse({ GANTRY_REGISTRY_TOKEN_KEY: "/etc/gantry/key.pem", GANTRY_REGISTRY_TOKEN_CERT: "/etc/gantry/cert.pem" }).registry.tokenSigning).toEqual({ keyFile: "/etc/gantry/key.pem", certFile: "/etc/gantry/cert.pem" });
    expect(() => parse({ GANTRY_REGISTRY_TOKEN_KEY: "/etc/gantry/key.pem" })).toThrow(/GANTRY_REGISTRY_TOKEN_KEY and GANTRY_REGISTRY_TOKEN_CERT: set both/);
  });

  it("answers on GANTRY_REGISTRY_PORT too, and defaults its URL to that port on the listen address", () => {
    const e = parse({ HOST: "0.0.0.0", GANTRY_REGISTRY_PORT: "5001" });
    expect(e.registry.port).toBe(5001);
    expect(e.urls.registry).toEqual({ scheme: "http", host: "127.0.0.1:5001", origin: "http://127.0.0.1:5001" });
    expect(e.registryDomain).toBe("127.0.0.1:5001");
    expect(parse({ GANTRY_REGISTRY_PORT: "5001", GANTRY_REGISTRY_URL: "https://registry.example.com" }).registryDomain).toBe("registry.example.com");
  });

  it("refuses a bad or clashing GANTRY_REGISTRY_PORT", () => {
    expect(() => parse({ GANTRY_REGISTRY_PORT: "70000" })).toThrow(/GANTRY_REGISTRY_PORT/);
    expect(() => parse({ GANTRY_REGISTRY_PORT: "five" })).toThrow(/GANTRY_REGISTRY_PORT/);
    expect(() => parse({ PORT: "3000", GANTRY_REGISTRY_PORT: "3000" })).toThrow(/GANTRY_REGISTRY_PORT: must differ from PORT/);
  });

  it("reads GANTRY_REGISTRY_BACKEND as an http(s) URL without a trailing slash", () => {
    expect(parse({ GANTRY_REGISTRY_BACKEND: "http://127.0.0.1:5000/" }).registry.backend).toBe("http://127.0.0.1:5000");
    expect(parse({ GANTRY_REGISTRY_BACKEND: "https://distribution.internal" }).registry.backend).toBe("https://distribution.internal");
    expect(() => parse({ GANTRY_REGISTRY_BACKEND: "127.0.0.1:5000" })).toThrow(/GANTRY_REGISTRY_BACKEND/);
    expect(() => parse({ GANTRY_REGISTRY_BACKEND: "ftp://x" })).toThrow(/GANTRY_REGISTRY_BACKEND: must be an http/);
    expect(() => parse({ GANTRY_REGISTRY_BACKEND: "http://u:p@x" })).toThrow(/GANTRY_REGISTRY_BACKEND: must not contain a user name/);
  });

  it("turns the registry off with GANTRY_REGISTRY=off: no registry URL, and a warning naming what is ignored", () => {
    const warn = vi.fn();
    const e = parse({ GANTRY_REGISTRY: "OFF", GANTRY_REGISTRY_URL: "https://registry.example.com", GANTRY_REGISTRY_PORT: "5001" }, warn);
    expect(e.registry.enabled).toBe(false);
    expect(e.urls.registry).toBeUndefined();
    expect(e.registryDomain).toBeUndefined();
    expect(warn).toHaveBeenCalledWith("GANTRY_REGISTRY=off: GANTRY_REGISTRY_URL, GANTRY_REGISTRY_PORT are ignored.");
    expect(parse({ GANTRY_REGISTRY: "on" }).registry.enabled).toBe(true);
    expect(() => parse({ GANTRY_REGISTRY: "maybe" })).toThrow(/GANTRY_REGISTRY: must be "on" or "off"/);
  });

  it("reads the free-space floor as a size or a share of the volume, and refuses anything else", () => {
    const dir = tmp();
    expect(parseEnv({ GANTRY_DATA_DIR: dir, GANTRY_MIN_FREE_DISK: "10GiB" }, () => {}).minFreeDisk).toEqual({ kind: "bytes", bytes: 10 * 2 ** 30 });
    expect(parseEnv({ GANTRY_DATA_DIR: dir, GANTRY_MIN_FREE_DISK: "7.5%" }, () => {}).minFreeDisk).toEqual({ kind: "percent", percent: 7.5 });
    expect(() => parseEnv({ GANTRY_DATA_DIR: dir, GANTRY_MIN_FREE_DISK: "150%" }, () => {})).toThrow(/below 100/);
    expect(() => parseEnv({ GANTRY_DATA_DIR: dir, GANTRY_MIN_FREE_DISK: "lots" }, () => {})).toThrow(/GANTRY_MIN_FREE_DISK.*not a size/);
  });
});
