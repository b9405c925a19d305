import { execFileSync } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { resetProxyCacheForTests } from "@/lib/cache/cache";
import { resetEnvForTests } from "@/lib/env";
import { db } from "@/lib/db";
import { signUp } from "@/lib/auth/sign-up";
import { createApp } from "@/lib/apps/apps";
import { setExtraPatterns } from "@/lib/releases/scope";
import { createCustomer } from "@/lib/licenses/customers";
import { handleRegistryRequest } from "@/lib/proxy/handler";
import { proxyTimeouts } from "@/lib/proxy/upstream";
import { createRegistry } from "@/lib/registries/registries";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { teamContextForUser } from "@/lib/teams/access";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";

/**
 * Faults between Gantry and the upstream: a registry that stops and comes
 * back, one that stalls, one that dies mid-blob, and a client that goes away
 * mid-blob (no upstream connection may leak).
 */
const D = `sha256:${"d".repeat(64)}`;
let proxy: http.Server;
let proxyPort = 0;
let fake: http.Server;
let fakePort = 0;
let real: RunningRegistry;
let license = "";
const slug = `faults-${Date.now().toString(36)}`;
let streaming = 0;

beforeAll(async () => {
  real = await startRegistry({ auth: "none" });
  await pushImage(await buildImage({ files: { "f.txt": "faults\n" } }), { registry: real, repo: "acme/app", tag: "1" });
  fake = http.createServer((req, res) => {
    const url = req.url ?? "";
    if (url === "/v2/") return void res.writeHead(200, { "content-type": "application/json" }).end("{}");
    if (url.includes("/stall/")) return; // never answers
    if (url.includes("/busy/")) return void res.writeHead(429, { "retry-after": "7", "content-type": "application/json" }).end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
    if (url.includes("/dying/blobs/")) {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(10 * 1024 * 1024), "docker-content-digest": D });
      res.write(Buffer.alloc(1024 * 1024, 1));
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    if (url.includes("/endless/blobs/")) {
      streaming++;
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(1024 * 1024 * 1024), "docker-content-digest": D });
      const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024, 2)), 5);
      res.on("close", () => {
        clearInterval(timer);
        streaming--;
      });
      return;
    }
    res.writeHead(404, { "content-type": "application/json" }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"nope"}]}');
  });
  await new Promise<void>((r) => fake.listen(0, "127.0.0.1", r));
  fakePort = (fake.address() as AddressInfo).port;
  proxy = http.createServer((req, res) => void handleRegistryRequest(req, res, { clientIp: req.socket.remoteAddress ?? null }));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyPort = (proxy.address() as AddressInfo).port;

  const { user, team } = await signUp({ email: `faults-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Faults" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Faults", slug });
  // Scope (releases and patterns) is tested in lib/proxy/scope.int.test.ts; here every repository is in scope.
  await setExtraPatterns(ctx, slug, ["**"]);
  await createRegistry(ctx, { name: "Fake", endpoint: `http://127.0.0.1:${fakePort}`, username: "u", password: "p" });
  await createRegistry(ctx, { name: "Real", endpoint: real.url, username: "u", password: "p" });
  license = (await createCustomer(ctx, slug, { name: "Faulty" })).license.licenseId;
});
afterAll(async () => {
  proxy.close();
  fake.closeAllConnections();
  fake.close();
  await stopAll();
  cleanupImages();
});

const auth = () => ({ authorization: `Basic ${Buffer.from(`x:${license}`).toString("base64")}` });
const url = (upstreamPort: number, rest: string) => `http://127.0.0.1:${proxyPort}/v2/proxy/${slug}/127.0.0.1_${upstreamPort}/${rest}`;
const upstreamSockets = () =>
  execFileSync("ss", ["-Htn", "state", "established", `( dport = :${fakePort} )`], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean).length;

describe("registry proxy faults", () => {
  it("answers 502 in the registry format while the upstream is down (for what the cache cannot stand in for), and recovers when it is back", async () => {
    const manifest = (tag: string) => fetch(url(real.port, `acme/app/manifests/${tag}`), { headers: { ...auth(), accept: MANIFEST_ACCEPT } });
    expect((await manifest("1")).status).toBe(200);
    await real.stop();
    const down = await manifest("never-pulled");
    expect(down.status).toBe(502);
    expect(await down.json()).toEqual({ errors: [{ code: "UNAVAILABLE", message: "The upstream registry is unreachable.", detail: null }] });
    expect((await manifest("1")).status).toBe(200); // pulled before: its last known digest (lib/cache/cache.int.test.ts)
    await real.restart();
    expect((await manifest("1")).status).toBe(200);
  });

  it("maps upstream 404 to MANIFEST_UNKNOWN / BLOB_UNKNOWN and upstream 429 to 429 with Retry-After", async () => {
    const missing = await fetch(url(real.port, "acme/app/manifests/no-such-tag"), { headers: { ...auth(), accept: MANIFEST_ACCEPT } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe("MANIFEST_UNKNOWN");
    const blob = await fetch(url(real.port, `acme/app/blobs/${D}`), { headers: auth() });
    expect(blob.status).toBe(404);
    expect(((await blob.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe("BLOB_UNKNOWN");
    const busy = await fetch(url(fakePort, "acme/busy/manifests/1"), { headers: auth() });
    expect(busy.status).toBe(429);
    expect(busy.headers.get("retry-after")).toBe("7");
    expect(((await busy.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe("TOOMANYREQUESTS");
  });

  it("answers 504 within the configured timeout when the upstream stalls", async () => {
    const saved = proxyTimeouts.headersTimeoutMs;
    proxyTimeouts.headersTimeoutMs = 500;
    try {
      const started = Date.now();
      const res = await fetch(url(fakePort, "acme/stall/manifests/1"), { headers: auth() });
      expect(res.status).toBe(504);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(((await res.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe("UNAVAILABLE");
    } finally {
      proxyTimeouts.headersTimeoutMs = saved;
    }
  });

  it("aborts the client connection when the upstream dies mid-blob, so a short body cannot pass a digest check", async () => {
    const res = await fetch(url(fakePort, `acme/dying/blobs/${D}`), { headers: auth() });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(10 * 1024 * 1024));
    await expect(res.arrayBuffer()).rejects.toThrow();
  });

  it("without the cache, closes the upstream connection when the client disconnects mid-blob (socket count before and after)", async () => {
    // With the cache, the fill outlives its client by design (lib/cache/cache.int.test.ts checks it ends and closes).
    process.env.GANTRY_CACHE_MAX_BYTES = "0";
    resetEnvForTests();
    resetProxyCacheForTests();
    onTestFinished(() => {
      delete process.env.GANTRY_CACHE_MAX_BYTES;
      resetEnvForTests();
      resetProxyCacheForTests();
    });
    await new Promise((r) => setTimeout(r, 200));
    const before = upstreamSockets();
    const controller = new AbortController();
    const res = await fetch(url(fakePort, `acme/endless/blobs/${D}`), { headers: auth(), signal: controller.signal });
    const reader = res.body?.getReader();
    await reader?.read();
    await reader?.read();
    expect(streaming).toBe(1);
    expect(upstreamSockets()).toBeGreaterThan(before);
    controller.abort();
    await expect.poll(() => streaming, { timeout: 5000 }).toBe(0);
    await expect.poll(() => upstreamSockets(), { timeout: 5000 }).toBeLessThanOrEqual(before);
  });

  it("rate-limits failed license attempts per IP", async () => {
    await db.rateLimitBucket.deleteMany({ where: { key: { startsWith: "proxy-auth:" } } }); // start from a clean count
    const bad = { authorization: `Basic ${Buffer.from(`x:${"Z".repeat(32)}`).toString("base64")}` };
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) statuses.push((await fetch(`http://127.0.0.1:${proxyPort}/v2/token?scope=repository:proxy/${slug}/x/y:pull`, { headers: bad })).status);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    const limited = await fetch(`http://127.0.0.1:${proxyPort}/v2/token?scope=repository:proxy/${slug}/x/y:pull`, { headers: auth() });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    // Lift the lock so later suites pulling from 127.0.0.1 are not affected.
    await db.rateLimitBucket.deleteMany({ where: { key: { startsWith: "proxy-auth:" } } });
  });
});
