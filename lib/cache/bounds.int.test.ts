import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { proxyCache, resetProxyCacheForTests } from "@/lib/cache/cache";
import { fillTuning } from "@/lib/cache/fill";
import { tmpDir } from "@/lib/cache/layout";
import { flushCacheUsage } from "@/lib/cache/usage";
import { db } from "@/lib/db";
import { forgetDiskSamples } from "@/lib/disk/free-space";
import { resetEnvForTests } from "@/lib/env";
import { createCustomer } from "@/lib/licenses/customers";
import { handleRegistryRequest } from "@/lib/proxy/handler";
import { createRegistry } from "@/lib/registries/registries";
import { setExtraPatterns } from "@/lib/releases/scope";
import { Health } from "@/lib/server/health";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startHostileRegistryProcess, type HostileProcess } from "@/lib/testing/registries/hostile";

/**
 * Every disk writer of the proxy cache is bounded, whatever a registry a
 * tenant controls sends: fills are counted and stopped at their cap (half the
 * cache) with or without a Content-Length, fills in progress never hold more
 * than the cache, a fill nobody reads stops, fills run at most
 * GANTRY_CACHE_MAX_FILLS at once (per team: _PER_TEAM), and below the
 * free-space floor blobs stream through uncached. Content streamed without the
 * cache is hashed on the way and cut short when it lies.
 */
const MiB = 1024 * 1024;
const CACHE_BYTES = 256 * MiB;
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-bounds-"));

// ---- a registry a tenant controls ----
const GOOD = crypto.randomBytes(MiB);
const GOOD_SHA256 = `sha256:${crypto.createHash("sha256").update(GOOD).digest("hex")}`;
const GOOD_SHA512 = `sha512:${crypto.createHash("sha512").update(GOOD).digest("hex")}`;
const LIE = Buffer.alloc(MiB, 7);
/** What the drip sends (its 64 KiB chunks of spaces). */
const DRIP_SHA256 = `sha256:${crypto.createHash("sha256").update(Buffer.alloc(MiB, 0x20)).digest("hex")}`;
/** The endless attacker runs in a child process, so the RSS figures are Gantry's alone. */
let hostile: HostileProcess;
let upstream: http.Server;
let upstreamPort = 0;
let openStreams = 0;
let bytesSent = 0;
const gets = new Map<string, number>();

function serveForever(res: http.ServerResponse, opts: { total: number; perSecond?: number }) {
  openStreams++;
  let left = opts.total;
  let closed = false;
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  res.on("close", () => {
    closed = true;
    openStreams--;
  });
  const pump = () => {
    while (!closed && left > 0) {
      const n = Math.min(chunk.length, left);
      left -= n;
      bytesSent += n;
      const more = res.write(n === chunk.length ? chunk : chunk.subarray(0, n));
      if (opts.perSecond) return void setTimeout(pump, (n / opts.perSecond) * 1000);
      if (!more) return void res.once("drain", pump);
    }
    if (!closed && left <= 0) res.end();
  };
  pump();
}

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const url = req.url ?? "";
    if (url === "/v2/") return void res.writeHead(200, { "content-type": "application/json" }).end("{}");
    // x/<mode>, or x/<mode>-<n> for a second repository (a fill of its own) of the same behaviour.
    const m = /^\/v2\/x\/([a-z]+)(?:-\d+)?\/blobs\/(sha\d+:[a-f0-9]+)$/.exec(url);
    if (!m || req.method !== "GET") return void res.writeHead(404, { "content-type": "application/json" }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"no"}]}');
    const [, mode, digest] = m as unknown as [string, string, string];
    gets.set(`${mode}@${digest}`, (gets.get(`${mode}@${digest}`) ?? 0) + 1);
    const type = { "content-type": "application/octet-stream" };
    switch (mode) {
      case "endless": // no length, as fast as the socket drains, never ends
        res.writeHead(200, type);
        return serveForever(res, { total: Infinity });
      case "huge": // 100 MiB announced, at 20 MiB/s
        res.writeHead(200, { ...type, "content-length": String(100 * MiB) });
        return serveForever(res, { total: 100 * MiB, perSecond: 20 * MiB });
      case "drip": // 1 MiB announced, 256 KiB a second
        res.writeHead(200, { ...type, "content-length": String(MiB) });
        return serveForever(res, { total: MiB, perSecond: 256 * 1024 });
      case "good":
        return void res.writeHead(200, { ...type, "content-length": String(GOOD.length) }).end(GOOD);
      case "liar":
        return void res.writeHead(200, { ...type, "content-length": String(LIE.length) }).end(LIE);
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamPort = (upstream.address() as AddressInfo).port;
  hostile = await startHostileRegistryProcess({ auth: "none" });
  setEnv({ GANTRY_CACHE_DIR: cacheDir, GANTRY_CACHE_MAX_BYTES: String(CACHE_BYTES), GANTRY_CACHE_MAX_FILLS: "3", GANTRY_CACHE_MAX_FILLS_PER_TEAM: "2" });
  proxy = http.createServer((req, res) => void handleRegistryRequest(req, res, { clientIp: req.socket.remoteAddress ?? null }));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyPort = (proxy.address() as AddressInfo).port;
  teamA = await tenant("a");
  teamB = await tenant("b");
});

afterAll(async () => {
  proxy?.closeAllConnections();
  proxy?.close();
  upstream?.closeAllConnections();
  upstream?.close();
  await hostile?.stop();
  fillTuning.orphanGraceMs = 5_000;
  setEnv({ GANTRY_CACHE_DIR: undefined, GANTRY_CACHE_MAX_BYTES: undefined, GANTRY_CACHE_MAX_FILLS: undefined, GANTRY_CACHE_MAX_FILLS_PER_TEAM: undefined, GANTRY_MIN_FREE_DISK: undefined });
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

function setEnv(vars: Record<string, string | undefined>) {
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  resetEnvForTests();
  resetProxyCacheForTests();
  forgetDiskSamples();
}

// ---- two tenants pulling through the proxy ----
let proxy: http.Server;
let proxyPort = 0;
interface Tenant {
  ctx: TeamContext;
  slug: string;
  license: string;
}
let teamA: Tenant;
let teamB: Tenant;

async function tenant(name: string): Promise<Tenant> {
  const stamp = `${name}-${Date.now().toString(36)}`;
  const { user, team } = await signUp({ email: `bounds-${stamp}@example.com`, password: "correct horse battery", teamName: `Bounds ${name}` });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  const slug = `bounds-${stamp}`;
  await createApp(ctx, { name: `Bounds ${name}`, slug });
  await setExtraPatterns(ctx, slug, ["**"]);
  await createRegistry(ctx, { name: "Theirs", endpoint: `http://127.0.0.1:${upstreamPort}`, username: "u", password: "p" });
  await createRegistry(ctx, { name: "Endless", endpoint: hostile.url, username: "u", password: "p" });
  return { ctx, slug, license: (await createCustomer(ctx, slug, { name: "Customer" })).license.licenseId };
}

/** A full GC, even without --expose-gc: memory figures after it are what is still referenced. */
const fullGc =
  (globalThis as { gc?: () => void }).gc ??
  (() => {
    v8.setFlagsFromString("--expose-gc");
    return vm.runInNewContext("gc") as () => void;
  })();
const liveBytes = () => {
  fullGc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

const randomDigest = () => `sha256:${crypto.randomBytes(32).toString("hex")}`;

/**
 * GET a blob through the proxy as `t`'s customer; reads up to `readBytes` and
 * leaves (or reads it all). `mode` is the test upstream's x/<mode>[-n]; with
 * `port` another upstream's repository path.
 */
function pull(t: Tenant, mode: string, digest: string, readBytes = Infinity, port = upstreamPort): Promise<{ status: number; received: number; complete: boolean; length: number | null }> {
  const repository = port === upstreamPort ? `x/${mode}` : mode;
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: "127.0.0.1",
        port: proxyPort,
        path: `/v2/proxy/${t.slug}/127.0.0.1_${port}/${repository}/blobs/${digest}`,
        headers: { authorization: `Basic ${Buffer.from(`LICENSE_ID:${t.license}`).toString("base64")}` },
        agent: false,
      },
      (res) => {
        let received = 0;
        const length = res.headers["content-length"] === undefined ? null : Number(res.headers["content-length"]);
        const done = (complete: boolean) => resolve({ status: res.statusCode ?? 0, received, complete, length });
        res.on("data", (c: Buffer) => {
          received += c.length;
          if (received >= readBytes) {
            req.destroy();
            done(false);
          }
        });
        res.on("end", () => done(res.complete));
        res.on("error", () => done(false));
        res.on("aborted", () => done(false));
      },
    );
    req.on("error", (e) => (e.message.includes("aborted") || e.message.includes("socket hang up") ? undefined : reject(e)));
  });
}

/** Bytes under the cache's tmp/ right now. */
function tmpBytes(): number {
  const dir = tmpDir(cacheDir);
  let total = 0;
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) total += fs.statSync(path.join(dir, name), { throwIfNoEntry: false })?.size ?? 0;
  return total;
}

/** Samples tmp/ every 20 ms until stopped; the peak. */
function watchTmp() {
  let peak = 0;
  let files = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, tmpBytes());
    files = Math.max(files, fs.existsSync(tmpDir(cacheDir)) ? fs.readdirSync(tmpDir(cacheDir)).length : 0);
  }, 20);
  return { stop: () => (clearInterval(timer), { peak, files }) };
}

describe("a registry that never stops sending", () => {
  it("an endless blob without Content-Length, three clients reading 1 MB and leaving: the disk taken stays under the cache's limit and the temp files go", async () => {
    // Orphaned fills stop on their own (next test); here the cap alone must bound them.
    fillTuning.orphanGraceMs = 120_000;
    const liveBefore = liveBytes();
    const rssBefore = process.memoryUsage().rss;
    const sentBefore = (await hostile.stats()).sent;
    const watch = watchTmp();
    let rssPeak = rssBefore;
    const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
    const results = await Promise.all([randomDigest(), randomDigest(), randomDigest()].map((d) => pull(teamA, "endless/x", d, MiB, hostile.port)));
    for (const r of results) expect(r.status).toBe(200);
    // The fills go on without their clients until their cap, or until they have been orphaned for the grace period.
    await expect.poll(() => proxyCache()!.fillsRunning(), { timeout: 30_000, interval: 100 }).toBe(0);
    const { peak } = watch.stop();
    clearInterval(rssTimer);
    const sent = (await hostile.stats()).sent - sentBefore;
    const liveAfter = liveBytes();
    console.log(
      `endless blob ×3: the attacker sent ${(sent / MiB).toFixed(0)} MiB; tmp/ peaked at ${(peak / MiB).toFixed(1)} MiB (cache ${CACHE_BYTES / MiB} MiB, per-blob cap ${CACHE_BYTES / 2 / MiB} MiB); RSS ${(rssBefore / MiB).toFixed(0)} MiB before, peak ${(rssPeak / MiB).toFixed(0)} MiB (garbage included); live memory after a full GC ${(liveBefore / MiB).toFixed(0)} → ${(liveAfter / MiB).toFixed(0)} MiB`,
    );
    // Nothing of the attack stays referenced once the fills ended.
    expect(liveAfter - liveBefore).toBeLessThan(32 * MiB);
    // Two fills for the team (its limit), each stopped at half the cache: never more than the cache itself.
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(CACHE_BYTES);
    expect(tmpBytes()).toBe(0);
    await expect.poll(async () => (await hostile.stats()).open, { timeout: 10_000 }).toBe(0);
    fillTuning.orphanGraceMs = 5_000;
  });

  it("a fill nobody reads any more stops once no client is left, when it is over 64 MiB", async () => {
    fillTuning.orphanGraceMs = 300;
    try {
      const digest = randomDigest();
      const sentBefore = bytesSent;
      const r = await pull(teamA, "huge", digest, MiB);
      expect(r.status).toBe(200);
      // 100 MiB at 20 MiB/s would take 5 s to finish: stopped within the grace, long before that.
      await expect.poll(() => openStreams, { timeout: 3_000, interval: 50 }).toBe(0);
      await expect.poll(() => proxyCache()!.fillsRunning(), { timeout: 3_000 }).toBe(0);
      expect(bytesSent - sentBefore).toBeLessThan(60 * MiB);
      expect(tmpBytes()).toBe(0);
      expect(proxyCache()!.store.has(digest)).toBe(false);
    } finally {
      fillTuning.orphanGraceMs = 5_000;
    }
  });
});

describe("fills at once", () => {
  it("a team runs at most its share of fills and Gantry at most its total; the rest stream through uncached", async () => {
    const cache = proxyCache()!;
    const drips = [pull(teamA, "drip-1", DRIP_SHA256), pull(teamA, "drip-2", DRIP_SHA256)];
    await expect.poll(() => cache.fillsRunning(teamA.ctx.team.id), { timeout: 5_000 }).toBe(2);
    // The team's third blob: streamed through, no fill (and still served whole).
    const passed = await pull(teamA, "good", GOOD_SHA256);
    expect(passed).toMatchObject({ status: 200, complete: true, received: GOOD.length });
    expect(cache.fillsRunning(teamA.ctx.team.id)).toBe(2);
    expect(cache.store.has(GOOD_SHA256)).toBe(false);
    // Another team still gets a fill of its own…
    const other = pull(teamB, "drip-3", DRIP_SHA256);
    await expect.poll(() => cache.fillsRunning(teamB.ctx.team.id), { timeout: 5_000 }).toBe(1);
    expect(cache.fillsRunning()).toBe(3);
    // …until Gantry's total is reached.
    const overTotal = await pull(teamB, "good", GOOD_SHA256);
    expect(overTotal).toMatchObject({ status: 200, complete: true, received: GOOD.length });
    expect(cache.fillsRunning(teamB.ctx.team.id)).toBe(1);
    for (const r of await Promise.all([...drips, other])) expect(r).toMatchObject({ status: 200, complete: true, received: MiB });
    await expect.poll(() => cache.fillsRunning(), { timeout: 5_000 }).toBe(0);
    // Slots free again: the next pull is cached.
    expect(await pull(teamA, "good", GOOD_SHA256)).toMatchObject({ status: 200, complete: true });
    await expect.poll(() => cache.store.has(GOOD_SHA256), { timeout: 5_000 }).toBe(true);
  });
});

describe("below the free-space floor", () => {
  it("new fills stream through uncached, nothing stored is touched, and /readyz names disk", async () => {
    const cache = proxyCache()!;
    expect(cache.store.has(GOOD_SHA256)).toBe(true); // cached by the test above
    setEnv({ GANTRY_MIN_FREE_DISK: "99.999%" });
    try {
      const low = proxyCache()!;
      await low.ready;
      expect(low.store.has(GOOD_SHA256)).toBe(true); // still on disk, still indexed
      const before = gets.get(`drip@${DRIP_SHA256}`) ?? 0;
      const watch = watchTmp();
      const r = await pull(teamA, "drip-4", DRIP_SHA256);
      const { files } = watch.stop();
      expect(r).toMatchObject({ status: 200, complete: true, received: MiB });
      expect(files).toBe(0); // no temp file: nothing was written
      await new Promise((r) => setTimeout(r, 200));
      expect(await db.cacheLink.count({ where: { teamId: teamA.ctx.team.id, repository: "x/drip-4" } })).toBe(0); // not cached for it
      expect(gets.get(`drip@${DRIP_SHA256}`)).toBe(before + 1);
      // A cached blob is still served from disk.
      expect(await pull(teamA, "good", GOOD_SHA256)).toMatchObject({ status: 200, complete: true, received: GOOD.length });
      const report = await new Health({ migrationsDir: path.join(process.cwd(), "prisma", "migrations") }).ready();
      expect(report.checks.disk).toBe("failed");
      expect(report.failing).toContain("disk");
    } finally {
      setEnv({ GANTRY_MIN_FREE_DISK: undefined });
    }
    const report = await new Health({ migrationsDir: path.join(process.cwd(), "prisma", "migrations") }).ready();
    expect(report.checks.disk).toBe("ok");
  });
});

describe("content streamed without the cache is checked on the way", () => {
  async function mismatches(t: Tenant): Promise<number> {
    await flushCacheUsage();
    const rows = await db.cacheUsage.findMany({ where: { teamId: t.ctx.team.id }, select: { digestMismatches: true } });
    return rows.reduce((n, r) => n + r.digestMismatches, 0);
  }

  it("cuts a lying blob short on every uncached path: below the floor, a sha512 digest, the cache off", async () => {
    const start = await mismatches(teamB);
    // Below the floor: the pass-through of a fill that was not started.
    setEnv({ GANTRY_MIN_FREE_DISK: "99.999%" });
    const low = await pull(teamB, "liar", GOOD_SHA256);
    expect(low.status).toBe(200);
    expect(low.complete).toBe(false);
    expect(low.received).toBeLessThan(LIE.length);
    setEnv({ GANTRY_MIN_FREE_DISK: undefined });
    // sha512: never cached, passed through.
    const sha512 = await pull(teamB, "liar", GOOD_SHA512);
    expect(sha512.complete).toBe(false);
    expect(sha512.received).toBeLessThan(LIE.length);
    // The cache off: everything passes through.
    setEnv({ GANTRY_CACHE_MAX_BYTES: "0" });
    try {
      const off = await pull(teamB, "liar", GOOD_SHA256);
      expect(off.complete).toBe(false);
      expect(off.received).toBeLessThan(LIE.length);
      // Honest content on the same paths arrives whole.
      expect(await pull(teamB, "good", GOOD_SHA256)).toMatchObject({ status: 200, complete: true, received: GOOD.length });
      expect(await pull(teamB, "good", GOOD_SHA512)).toMatchObject({ status: 200, complete: true, received: GOOD.length });
    } finally {
      setEnv({ GANTRY_CACHE_MAX_BYTES: String(CACHE_BYTES) });
    }
    expect(await mismatches(teamB)).toBe(start + 3);
  });
});
