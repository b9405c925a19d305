import http from "node:http";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "@/lib/auth/sign-up";
import { createApp } from "@/lib/apps/apps";
import { setExtraPatterns } from "@/lib/releases/scope";
import { createCustomer } from "@/lib/licenses/customers";
import { handleRegistryRequest } from "@/lib/proxy/handler";
import { proxyStreamFloor, proxyTimeouts } from "@/lib/proxy/upstream";
import { createRegistry } from "@/lib/registries/registries";
import { testConnection } from "@/lib/registries/test-connection";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { defaultHttpOptions, RegistryClient } from "@/lib/registry-client/client";
import { TOKEN_CACHE_LIMITS, TokenCache } from "@/lib/registry-client/token-cache";
import { startCountingServer, startHostileRegistry, startHostileRegistryProcess, type HostileProcess, type HostileRegistry } from "@/lib/testing/registries/hostile";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";

/**
 * Hostile upstreams (any tenant can add any registry): endless and huge
 * manifests, huge token answers, slow drips, redirects and token realms aimed
 * at internal addresses. Gantry must answer each with a registry-format error,
 * keep its memory flat, keep serving a normal pull at its usual latency, and
 * never reach an internal address through someone else's redirect or realm.
 *
 * Memory figures: run with NODE_OPTIONS=--expose-gc for before/after numbers
 * after a full GC; the peak RSS (sampled every 50 ms) is measured either way.
 */
const MB = 1024 * 1024;
/**
 * The attack: BULK loops sending oversized answers back to back (each costs Gantry
 * its usual per-request work — license check, upstream lookup — plus up to 4 MiB
 * read), and SLOW requests held open at once against dripping upstreams.
 */
const BULK = Number(process.env.HOSTILE_BULK ?? 2);
const SLOW = Number(process.env.HOSTILE_SLOW ?? 32);
/** Normal pulls per median. */
const N = 40;
let real: RunningRegistry;
let hostile: HostileRegistry;
let hugeToken: HostileRegistry;
let chunkedToken: HostileRegistry;
let foreignRealm: HostileRegistry;
let internal: Awaited<ReturnType<typeof startCountingServer>>;
/** The same attackers in child processes, for the memory and latency figures. */
let remote: HostileProcess;
let remoteHugeToken: HostileProcess;
let remoteChunkedToken: HostileProcess;
let proxy: http.Server;
let proxyPort = 0;
let ctx: TeamContext;
let license = "";
const ids: Record<string, string> = {};
const slug = `hostile-${Date.now().toString(36)}`;

beforeAll(async () => {
  real = await startRegistry({ auth: "none" });
  await pushImage(await buildImage({ files: { "h.txt": "hostile neighbours\n" } }), { registry: real, repo: "acme/app", tag: "1" });
  internal = await startCountingServer('{"token":"from an internal service","secret":"internal secret"}');
  hostile = await startHostileRegistry({ redirectTo: `${internal.url}/blob`, dripMs: 200 });
  hugeToken = await startHostileRegistry({ tokenMode: "huge" });
  chunkedToken = await startHostileRegistry({ tokenMode: "huge-chunked" });
  // Its realm names another host (localhost, resolving to loopback) where an internal service listens.
  foreignRealm = await startHostileRegistry({ realm: `http://localhost:${internal.port}/token` });
  [remote, remoteHugeToken, remoteChunkedToken] = await Promise.all([
    startHostileRegistryProcess({ redirectTo: `${internal.url}/blob` }),
    startHostileRegistryProcess({ tokenMode: "huge" }),
    startHostileRegistryProcess({ tokenMode: "huge-chunked" }),
  ]);
  proxy = http.createServer((req, res) => void handleRegistryRequest(req, res, { clientIp: req.socket.remoteAddress ?? null }));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyPort = (proxy.address() as AddressInfo).port;

  const { user, team } = await signUp({ email: `hostile-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Hostile" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Hostile", slug });
  // Scope (releases and patterns) is tested in lib/proxy/scope.int.test.ts; here every repository is in scope.
  await setExtraPatterns(ctx, slug, ["**"]);
  for (const [name, r] of Object.entries({ real, hostile, hugeToken, chunkedToken, foreignRealm, remote, remoteHugeToken, remoteChunkedToken })) {
    ids[name] = (await createRegistry(ctx, { name, endpoint: r.url, username: "vendor", password: "vendor-pw" })).id;
  }
  license = (await createCustomer(ctx, slug, { name: "Victim" })).license.licenseId;
});
afterAll(async () => {
  proxy.closeAllConnections();
  proxy.close();
  for (const s of [hostile, hugeToken, chunkedToken, foreignRealm, internal, remote, remoteHugeToken, remoteChunkedToken]) await s?.stop();
  await stopAll();
  cleanupImages();
});

const auth = () => ({ authorization: `Basic ${Buffer.from(`x:${license}`).toString("base64")}` });
const url = (port: number, rest: string) => `http://127.0.0.1:${proxyPort}/v2/proxy/${slug}/127.0.0.1_${port}/${rest}`;
const get = (port: number, rest: string) => fetch(url(port, rest), { headers: { ...auth(), accept: MANIFEST_ACCEPT } });
async function errorOf(res: Response) {
  return { status: res.status, body: (await res.json()) as { errors: { code: string; message: string; detail: null }[] } };
}
const registryError = (status: number, message: string | RegExp) => ({
  status,
  body: { errors: [{ code: "UNAVAILABLE", message: typeof message === "string" ? message : expect.stringMatching(message), detail: null }] },
});
const NO_IP = /\b127\.0\.0\.1\b|::1|loopback/;

describe("hostile upstreams: bounded reads", () => {
  it("answers a registry-format 502 for a 100 MB manifest (declared or not) and an endless one, and drops the upstream socket", async () => {
    for (const repo of ["huge/app", "huge-chunked/app", "endless/app"]) {
      const started = Date.now();
      expect(await errorOf(await get(hostile.port, `${repo}/manifests/1`)), repo).toEqual(registryError(502, "The upstream registry sent a manifest over 4 MiB."));
      expect(Date.now() - started, repo).toBeLessThan(10_000);
    }
    await expect.poll(() => hostile.openStreams(), { timeout: 5_000 }).toBe(0);
    // The attacker could not push much more than the cap into Gantry before the socket went.
    expect(hostile.bytesSent()).toBeLessThan(3 * 4 * MB + 3 * 8 * MB);
  });

  it("bounds tags/list at 4 MiB", async () => {
    expect(await errorOf(await get(hostile.port, "endless/app/tags/list"))).toEqual(registryError(502, "The upstream registry sent a tag list over 4 MiB."));
    const ok = await get(hostile.port, "ok/app/tags/list");
    expect(await ok.json()).toEqual({ name: `proxy/${slug}/127.0.0.1_${hostile.port}/ok/app`, tags: ["1"] });
  });

  it("bounds token answers at 64 KiB, with or without Content-Length", async () => {
    for (const r of [hugeToken, chunkedToken]) {
      expect(await errorOf(await get(r.port, "ok/app/manifests/1"))).toEqual(registryError(502, "The upstream registry sent a token response over 64 KiB."));
    }
    await expect.poll(() => hugeToken.openStreams() + chunkedToken.openStreams(), { timeout: 5_000 }).toBe(0);
  });

  it("Test connection says it in words", async () => {
    expect(await testConnection(ctx, ids.hugeToken ?? "")).toMatchObject({ ok: false, outcome: "unexpected", message: expect.stringMatching(/reachable, but it sent a token response over 64 KiB/) });
    const withImage = await testConnection(ctx, ids.hostile ?? "", `${hostile.host}/huge/app:1`);
    expect(withImage).toMatchObject({ ok: true, manifest: { status: 0, message: expect.stringMatching(/sent a manifest over 4 MiB/) } });
  });
});

describe("hostile upstreams: deadlines", () => {
  it("a manifest that drips gets a 504 at the overall deadline, not never", async () => {
    const saved = proxyTimeouts.totalTimeoutMs;
    proxyTimeouts.totalTimeoutMs = 1_500;
    try {
      const started = Date.now();
      expect(await errorOf(await get(hostile.port, "drip/app/manifests/1"))).toEqual(registryError(504, "The upstream registry did not answer in time."));
      const took = Date.now() - started;
      console.log(`[hostile] dripping manifest cut after ${took} ms (deadline 1500 ms)`);
      expect(took).toBeLessThan(6_000);
    } finally {
      proxyTimeouts.totalTimeoutMs = saved;
    }
  });

  it("a blob that drips is cut by the throughput floor: the client's body fails, the upstream socket closes", async () => {
    const saved = { ...proxyStreamFloor };
    Object.assign(proxyStreamFloor, { windowMs: 1_000, minBytes: 1024 });
    try {
      const started = Date.now();
      const res = await get(hostile.port, `drip/app/blobs/sha256:${"e".repeat(64)}`);
      expect(res.status).toBe(200); // headers came promptly; the body is what drips
      await expect(res.arrayBuffer()).rejects.toThrow();
      const took = Date.now() - started;
      console.log(`[hostile] dripping blob cut after ${took} ms (floor 1 KiB per 1 s window)`);
      expect(took).toBeLessThan(8_000);
      await expect.poll(() => hostile.openStreams(), { timeout: 5_000 }).toBe(0);
    } finally {
      Object.assign(proxyStreamFloor, saved);
    }
  });
});

describe("hostile upstreams: SSRF through redirects and realms", () => {
  it("refuses a blob redirect to another loopback port: 502, no request reaches it, nothing of it reaches the client", async () => {
    const before = internal.count();
    const res = await get(hostile.port, `redirect/app/blobs/sha256:${"e".repeat(64)}`);
    const text = await res.text();
    expect(res.status).toBe(502);
    expect(JSON.parse(text)).toEqual(registryError(502, /blocked by the SSRF guard/).body);
    expect(text).not.toContain("internal secret");
    expect(text).not.toMatch(NO_IP);
    expect(internal.count()).toBe(before);
  });

  it("refuses a token realm on another host (localhost ≠ 127.0.0.1) although its address is allowlisted, and says so without the address", async () => {
    const before = internal.count();
    const res = await get(foreignRealm.port, "ok/app/manifests/1");
    const text = await res.text();
    expect(JSON.parse(text)).toEqual(registryError(502, /blocked by the SSRF guard/).body);
    expect(text).not.toMatch(NO_IP);
    expect(internal.count()).toBe(before);
    const tested = await testConnection(ctx, ids.foreignRealm ?? "");
    expect(tested).toMatchObject({ ok: false, outcome: "blocked", message: expect.stringMatching(/localhost:\d+ is blocked by the SSRF guard/) });
    expect(tested.message).not.toMatch(NO_IP);
    expect(internal.count()).toBe(before);
  });
});

describe("hostile upstreams: memory and a neighbour's latency under attack", () => {
  const rss = () => process.memoryUsage().rss;
  /** Memory still referenced after a GC: the JS heap in use plus Buffers outside it. */
  const live = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  // A full GC before each reading, even without --expose-gc.
  const gc =
    (globalThis as { gc?: () => void }).gc ??
    (() => {
      v8.setFlagsFromString("--expose-gc");
      return vm.runInNewContext("gc") as () => void;
    })();
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)] ?? NaN;
  };
  const normalPulls = async (n: number) => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      const res = await get(real.port, "acme/app/manifests/1");
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      times.push(performance.now() - started);
    }
    return times;
  };

  it("keeps RSS growth under 50 MB after a GC (peak under 96 MB) and a normal pull's median latency within ×3 + 25 ms", async () => {
    const saved = { total: proxyTimeouts.totalTimeoutMs, floor: { ...proxyStreamFloor } };
    // Slow requests are cut after 3 s (manifests: overall deadline) or 2 s (blobs: under 1 KiB in a 2 s window).
    proxyTimeouts.totalTimeoutMs = 3_000;
    Object.assign(proxyStreamFloor, { windowMs: 2_000, minBytes: 1024 });
    try {
    await normalPulls(10); // warm up
    const lagBefore = monitorEventLoopDelay({ resolution: 10 });
    lagBefore.enable();
    const cpuBase = process.cpuUsage();
    const wallBase = performance.now();
    const baseline = median(await normalPulls(N));
    const cpuUsed = process.cpuUsage(cpuBase);
    const cpuPerNormal = (cpuUsed.user + cpuUsed.system) / 1000 / N;
    const wallPerNormal = (performance.now() - wallBase) / N;
    lagBefore.disable();
    await settle();
    const rss0 = rss();
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 50);

    const before = internal.count();
    const attacks = [
      () => get(remote.port, "endless/app/manifests/1"),
      () => get(remote.port, "huge/app/manifests/1"),
      () => get(remote.port, "huge-chunked/app/manifests/1"),
      () => get(remote.port, "endless/app/tags/list"),
      () => get(remoteHugeToken.port, "ok/app/manifests/1"),
      () => get(remoteChunkedToken.port, "ok/app/manifests/1"),
      () => get(remote.port, `redirect/app/blobs/sha256:${"e".repeat(64)}`),
    ];
    let stop = false;
    let attacksDone = 0;
    const statuses = new Map<number, number>();
    const attacker = async (k: number) => {
      for (let i = k; !stop; i++) {
        const res = await (attacks[i % attacks.length] ?? attacks[0])!();
        await res.arrayBuffer().catch(() => undefined);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        attacksDone++;
      }
    };
    const cpuAttack = process.cpuUsage();
    const wallAttack = performance.now();
    const attackers = Array.from({ length: BULK }, (_, k) => attacker(k));
    // Slow requests, each re-issued as soon as Gantry cuts it (deadline or throughput floor).
    let slowDone = 0;
    const slowStatuses = new Map<number, number>();
    const slow = async (k: number) => {
      while (!stop) {
        const res = await get(remote.port, k % 2 ? "drip/app/manifests/1" : `drip/app/blobs/sha256:${"e".repeat(64)}`);
        await res.arrayBuffer().catch(() => undefined);
        slowStatuses.set(res.status, (slowStatuses.get(res.status) ?? 0) + 1);
        slowDone++;
      }
    };
    const slowOnes = Array.from({ length: SLOW }, (_, k) => slow(k));
    await new Promise((r) => setTimeout(r, 500)); // the attack is under way
    const lagDuring = monitorEventLoopDelay({ resolution: 10 });
    lagDuring.enable();
    const during = median(await normalPulls(N));
    lagDuring.disable();
    while (attacksDone < 100) await new Promise((r) => setTimeout(r, 50));
    const remoteStats = await remote.stats();
    stop = true;
    await Promise.all([...attackers, ...slowOnes]);
    const cpu = process.cpuUsage(cpuAttack);
    const cpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - wallAttack);
    clearInterval(sampler);
    await settle();
    const rss1 = rss();

    const f = (n: number) => `${(n / MB).toFixed(1)} MB`;
    const sent = (await Promise.all([remote, remoteHugeToken, remoteChunkedToken].map((r) => r.stats()))).reduce((a, b) => a + b.sent, 0);
    console.log(
      `[hostile] ${BULK} bulk loops: ${attacksDone} oversized answers (statuses ${JSON.stringify(Object.fromEntries(statuses))}), attackers (child processes, nice 19) wrote ${f(sent)} in total;` +
        ` ${SLOW} slow requests held open (${remoteStats.open} open upstream at the end of the measure), ${slowDone} cut (statuses ${JSON.stringify(Object.fromEntries(slowStatuses))});` +
        ` RSS before ${f(rss0)}, peak ${f(peak)} (+${f(peak - rss0)}), after ${f(rss1)} (+${f(rss1 - rss0)}) (after a full GC);` +
        ` test process CPU: ${cpuPerNormal.toFixed(1)} ms per normal pull (${wallPerNormal.toFixed(1)} ms wall), ${(cpuShare * 100).toFixed(0)}% of a core during the attack;` +
        ` normal manifest pull median ${baseline.toFixed(1)} ms before, ${during.toFixed(1)} ms during;` +
        ` event-loop delay p50/p99/max ${[lagBefore.percentile(50), lagBefore.percentile(99), lagBefore.max].map((n) => (n / 1e6).toFixed(0)).join("/")} ms before,` +
        ` ${[lagDuring.percentile(50), lagDuring.percentile(99), lagDuring.max].map((n) => (n / 1e6).toFixed(0)).join("/")} ms during`,
    );
    expect([...statuses.keys()].every((s) => s === 502)).toBe(true);
    expect([...slowStatuses.keys()].every((s) => s === 504 || s === 200)).toBe(true);
    // The peak includes garbage the GC has not yet collected, which depends on the machine's load
    // (+18 MB idle, +55 MB once in CI beside other work); one buffered 100 MB answer would still
    // overshoot 96 MB. What stays after a full GC is the tighter bound.
    expect(peak - rss0).toBeLessThan(96 * MB);
    expect(rss1 - rss0).toBeLessThan(50 * MB);
    expect(during).toBeLessThan(baseline * 3 + 25);
    expect(internal.count()).toBe(before);
    } finally {
      proxyTimeouts.totalTimeoutMs = saved.total;
      Object.assign(proxyStreamFloor, saved.floor);
    }
  }, 180_000);

  it("a token server minting a new ~60 KiB token for each of 10,000 scopes: the caching client's token cache stays bounded", async () => {
    const perScope = await startHostileRegistryProcess({ tokenMode: "per-scope" });
    try {
      const cache = new TokenCache();
      const client = new RegistryClient({ endpoint: perScope.url, http: defaultHttpOptions(["127.0.0.1/32"]), credentials: { username: "vendor", password: "vendor-pw" }, tokenCache: cache });
      await settle();
      const rss0 = rss();
      const live0 = live();
      let peak = rss0;
      let maxEntries = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rss());
        maxEntries = Math.max(maxEntries, cache.size);
      }, 50);
      const started = performance.now();
      let next = 0;
      const statuses = new Map<number, number>();
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let i = next++; i < 10_000; i = next++) {
            const m = await client.manifest(`ok/r${i}`, "1", "HEAD");
            statuses.set(m.status, (statuses.get(m.status) ?? 0) + 1);
          }
        }),
      );
      const took = performance.now() - started;
      clearInterval(sampler);
      await settle();
      const rss1 = rss();
      const live1 = live();
      const stats = await perScope.stats();
      const f = (n: number) => `${(n / MB).toFixed(1)} MB`;
      console.log(
        `[hostile] 10,000 scopes in ${(took / 1000).toFixed(1)} s, ${stats.tokens} tokens minted (~60 KiB each, ${f(stats.tokens * 60 * 1024)}), statuses ${JSON.stringify(Object.fromEntries(statuses))};` +
          ` token cache ${cache.size} entries (max seen ${maxEntries}), ${f(cache.bytes)} (caps ${TOKEN_CACHE_LIMITS.max} entries, ${f(TOKEN_CACHE_LIMITS.maxBytes)});` +
          ` RSS before ${f(rss0)}, peak ${f(peak)} (+${f(peak - rss0)}), after ${f(rss1)} (+${f(rss1 - rss0)}) (after a full GC);` +
          ` live JS heap + buffers before ${f(live0)}, after ${f(live1)} (+${f(live1 - live0)})`,
      );
      expect(statuses.get(200)).toBe(10_000);
      expect(stats.tokens).toBeGreaterThanOrEqual(10_000);
      expect(maxEntries).toBeLessThanOrEqual(TOKEN_CACHE_LIMITS.max);
      expect(cache.bytes).toBeLessThanOrEqual(TOKEN_CACHE_LIMITS.maxBytes);
      // What stays referenced is bounded by the cache's caps (16 MiB of tokens): that is the bound
      // (without the caps the live figure grows by the ~600 MB minted). RSS is printed, not asserted:
      // those ~600 MB pass through as short-lived garbage (the answer, its string, the Authorization
      // header), and how much of the pages it grew into the allocator hands back after a GC depends
      // on Node's version and the machine (+40 MB on Node 20 here, +530 MB on Node 24 in one CI run
      // whose live figure was within the bound).
      expect(live1 - live0).toBeLessThan(TOKEN_CACHE_LIMITS.maxBytes + 16 * MB);
    } finally {
      await perScope.stop();
    }
  }, 300_000);
});
