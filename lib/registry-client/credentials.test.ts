import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { defaultHttpOptions, RegistryClient } from "@/lib/registry-client/client";
import { TokenCache } from "@/lib/registry-client/token-cache";

vi.mock("@/lib/log", () => ({ log: { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } }));

/**
 * A registry on https whose Bearer challenge names a plain http:// realm: its
 * credentials must not travel there (the realm's host is not one the operator
 * allowed as private, so nothing makes plain http acceptable).
 */
let registry: https.Server;
let realm: http.Server;
let registryPort = 0;
let realmPort = 0;
const realmRequests: { authorization?: string; url: string }[] = [];
let dir = "";
const savedTls = process.env.NODE_TLS_REJECT_UNAUTHORIZED;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-tls-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  realm = http.createServer((req, res) => {
    realmRequests.push({ authorization: req.headers.authorization, url: req.url ?? "" });
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: "t", expires_in: 300 }));
  });
  await new Promise<void>((r) => realm.listen(0, "127.0.0.1", r));
  realmPort = (realm.address() as AddressInfo).port;
  registry = https.createServer({ key: fs.readFileSync(`${dir}/key.pem`), cert: fs.readFileSync(`${dir}/cert.pem`) }, (req, res) => {
    if (String(req.headers.authorization ?? "").startsWith("Bearer ")) return void res.writeHead(200, { "content-type": "application/json" }).end("{}");
    res.writeHead(401, { "www-authenticate": `Bearer realm="http://localhost:${realmPort}/token",service="svc"` }).end();
  });
  await new Promise<void>((r) => registry.listen(0, "127.0.0.1", r));
  registryPort = (registry.address() as AddressInfo).port;
  // The self-signed test certificate: accepted for this file only.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
});
afterAll(() => {
  if (savedTls === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  else process.env.NODE_TLS_REJECT_UNAUTHORIZED = savedTls;
  registry.closeAllConnections();
  registry.close();
  realm.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("credentials never go over plain http", () => {
  it("refuses to send a registry's credentials to an http:// realm, with a clear protocol error, and sends nothing there", async () => {
    const client = new RegistryClient({
      endpoint: `https://127.0.0.1:${registryPort}`,
      http: defaultHttpOptions(["127.0.0.1/32"]),
      credentials: { username: "vendor", password: "s3cret" },
      // Even a realm host the operator trusts with credentials gets none over plain http.
      trustedRealmHosts: ["localhost"],
      tokenCache: new TokenCache(),
    });
    const err = await client.checkAuth().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "protocol", message: expect.stringMatching(/credentials to be sent over plain http:\/\/ to localhost:\d+; Gantry refused/) });
    expect(realmRequests).toHaveLength(0);
  });

  it("an anonymous client may still fetch an anonymous token there (nothing secret travels)", async () => {
    const client = new RegistryClient({ endpoint: `https://127.0.0.1:${registryPort}`, http: defaultHttpOptions(["127.0.0.1/32"]), trustedRealmHosts: ["localhost"], tokenCache: new TokenCache() });
    expect(await client.checkAuth()).toMatchObject({ kind: "ok", scheme: "bearer" });
    expect(realmRequests).toHaveLength(1);
    expect(realmRequests[0]?.authorization).toBeUndefined();
  });
});
