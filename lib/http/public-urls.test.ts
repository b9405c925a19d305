import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/env";
import { plainHttpNote, plainHttpSteps, realmFor } from "@/lib/http/public-urls";

/** The environment as lib/env.ts parses it (AUTH_SECRET given: nothing is written to disk). */
const config = (vars: Record<string, string>) => parseEnv({ AUTH_SECRET: "x".repeat(40), GANTRY_DATA_DIR: "/nonexistent/gantry", PORT: "3000", ...vars }, () => {});

const request = (headers: Record<string, string | undefined>, tls = false) =>
  ({ headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)), socket: tls ? { encrypted: true } : {} }) as unknown as IncomingMessage;

const httpsProxy = { GANTRY_PROXY_URL: "https://pull.example.com" };
const trusted = { ...httpsProxy, GANTRY_TRUST_PROXY: "127.0.0.1/32" };
const plainLab = { GANTRY_PROXY_URL: "http://gantry.lab:3000" };

describe("realmFor (proxy)", () => {
  it.each<[string, Record<string, string>, Record<string, string | undefined>, boolean, string]>([
    // The configured public host: its scheme, whatever the connection looks like.
    ["configured https host, TLS terminated in front, no trusted proxy", httpsProxy, { host: "pull.example.com" }, false, "https://pull.example.com/v2/token"],
    ["configured host with its default port", httpsProxy, { host: "pull.example.com:443" }, false, "https://pull.example.com:443/v2/token"],
    ["configured host in capitals", httpsProxy, { host: "PULL.Example.com" }, false, "https://pull.example.com/v2/token"],
    ["configured plain-http host", plainLab, { host: "gantry.lab:3000" }, false, "http://gantry.lab:3000/v2/token"],
    ["configured plain-http host, a trusted proxy claims https", { ...plainLab, GANTRY_TRUST_PROXY: "true" }, { host: "gantry.lab:3000", "x-forwarded-proto": "https" }, false, "http://gantry.lab:3000/v2/token"],
    ["default URL (http://HOST:PORT)", {}, { host: "127.0.0.1:3000" }, false, "http://127.0.0.1:3000/v2/token"],
    // Another name: the realm stays on the name the client used.
    ["another name, plain connection", httpsProxy, { host: "127.0.0.1:3000" }, false, "http://127.0.0.1:3000/v2/token"],
    ["another name, TLS connection", httpsProxy, { host: "127.0.0.1:3000" }, true, "https://127.0.0.1:3000/v2/token"],
    ["another port of the configured name", httpsProxy, { host: "pull.example.com:3000" }, false, "http://pull.example.com:3000/v2/token"],
    ["another name, X-Forwarded-Proto from an untrusted client", httpsProxy, { host: "127.0.0.1:3000", "x-forwarded-proto": "https" }, false, "http://127.0.0.1:3000/v2/token"],
    ["another name, trusted proxy says https", trusted, { host: "localhost:8443", "x-forwarded-proto": "https" }, false, "https://localhost:8443/v2/token"],
    ["another name, trusted proxy chain: first value", trusted, { host: "localhost:8443", "x-forwarded-proto": "HTTPS, http" }, false, "https://localhost:8443/v2/token"],
    ["another name, trusted proxy says http over a TLS hop", trusted, { host: "localhost:8443", "x-forwarded-proto": "http" }, true, "http://localhost:8443/v2/token"],
    ["another name, trusted proxy sends nonsense: the socket decides", trusted, { host: "localhost:8443", "x-forwarded-proto": "gopher" }, true, "https://localhost:8443/v2/token"],
    ["IPv6 literal Host", {}, { host: "[::1]:3000" }, false, "http://[::1]:3000/v2/token"],
    // No usable Host: the configured URL.
    ["no Host header", httpsProxy, {}, false, "https://pull.example.com/v2/token"],
    ["a Host that would break the challenge header", httpsProxy, { host: 'evil",error="x' }, false, "https://pull.example.com/v2/token"],
    ["a Host with a path", httpsProxy, { host: "evil.example/x" }, false, "https://pull.example.com/v2/token"],
    // The deprecated variable meant https on that host: a plain-http client there gets an https realm.
    ["deprecated GANTRY_PROXY_DOMAIN on plain http", { GANTRY_PROXY_DOMAIN: "gantry.lab:3000" }, { host: "gantry.lab:3000" }, false, "https://gantry.lab:3000/v2/token"],
  ])("%s", (_name, vars, headers, tls, realm) => {
    const c = config(vars);
    expect(realmFor(request(headers, tls), c, "proxy")).toEqual({ realm, service: c.proxyDomain });
  });

  it("names the proxy domain as the service (the proxy tokens' audience), whatever host the client used", () => {
    expect(realmFor(request({ host: "127.0.0.1:3000" }), config(httpsProxy), "proxy").service).toBe("pull.example.com");
    expect(realmFor(request({ host: "127.0.0.1:3000" }), config({}), "proxy").service).toBe("127.0.0.1:3000");
  });
});

describe("realmFor (registry)", () => {
  it.each<[string, Record<string, string>, Record<string, string | undefined>, boolean, { realm: string; service: string }]>([
    ["configured registry host", { GANTRY_REGISTRY_URL: "https://registry.example.com" }, { host: "registry.example.com" }, false, { realm: "https://registry.example.com/v2/token", service: "registry.example.com" }],
    ["configured plain-http registry port", { GANTRY_REGISTRY_PORT: "5001" }, { host: "127.0.0.1:5001" }, false, { realm: "http://127.0.0.1:5001/v2/token", service: "127.0.0.1:5001" }],
    ["another name for a configured registry", { GANTRY_REGISTRY_URL: "https://registry.example.com" }, { host: "10.0.0.5:5001" }, false, { realm: "http://10.0.0.5:5001/v2/token", service: "registry.example.com" }],
    ["the default registry (the port after PORT)", {}, { host: "127.0.0.1:3001" }, false, { realm: "http://127.0.0.1:3001/v2/token", service: "127.0.0.1:3001" }],
    ["the default registry under another name, TLS", {}, { host: "registry.lab" }, true, { realm: "https://registry.lab/v2/token", service: "127.0.0.1:3001" }],
    ["the default registry under another name, trusted proxy", { GANTRY_TRUST_PROXY: "1" }, { host: "registry.lab", "x-forwarded-proto": "https" }, false, { realm: "https://registry.lab/v2/token", service: "127.0.0.1:3001" }],
    ["the default registry, no Host: its own URL", { GANTRY_PUBLIC_URL: "https://portal.example.com" }, {}, false, { realm: "http://127.0.0.1:3001/v2/token", service: "127.0.0.1:3001" }],
  ])("%s", (_name, vars, headers, tls, expected) => {
    expect(realmFor(request(headers, tls), config(vars), "registry")).toEqual(expected);
  });
});

describe("plain-http instructions", () => {
  it("tell customers to list a plain-http host as insecure, and say nothing for https", () => {
    const lab = config(plainLab).urls.proxy;
    expect(plainHttpNote(lab)).toContain('"insecure-registries": ["gantry.lab:3000"]');
    expect(plainHttpSteps(lab).join("\n")).toContain('/etc/containerd/certs.d/gantry.lab:3000/hosts.toml with server = "http://gantry.lab:3000"');
    expect(plainHttpNote(config(httpsProxy).urls.proxy)).toBeNull();
    expect(plainHttpSteps(config(httpsProxy).urls.proxy)).toEqual([]);
  });
});
