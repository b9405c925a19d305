import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "@/lib/auth/sign-up";
import { createApp } from "@/lib/apps/apps";
import { db, takeQueryLog } from "@/lib/db";
import { flushCacheUsage } from "@/lib/cache/usage";
import { createCustomer } from "@/lib/licenses/customers";
import { handleRegistryRequest } from "@/lib/proxy/handler";
import { flushPulls } from "@/lib/proxy/pull-log";
import { createRegistry } from "@/lib/registries/registries";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { setExtraPatterns, setLicensePin } from "@/lib/releases/scope";
import { secretDecrypts } from "@/lib/secrets/store";
import { teamContextForUser } from "@/lib/teams/access";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";

/**
 * What one proxied request costs Gantry's database and key store, counted
 * (GANTRY_COUNT_DB_QUERIES=1 in the integration project). Before issue 11 a
 * blob request by Bearer token cost 2 reads, 1 write and no decrypt (4 reads,
 * 1 write and 2 decrypts before that); the figures printed here are after.
 */
let upstream: RunningRegistry;
let proxy: http.Server;
let base = "";
let bearer = "";
let basic = "";
let blob = "";
let manifestDigest = "";
let licenseRowId = "";
let pinnedBase = "";
let pinnedBearer = "";
let pinnedDigest = "";
const slug = `hot-${Date.now().toString(36)}`;

beforeAll(async () => {
  upstream = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
  ({ digest: manifestDigest } = await pushImage(await buildImage({ files: { "h.txt": "hot\n" } }), { registry: upstream, repo: "acme/hot", tag: "1", creds: "alice:alice-pw" }));
  proxy = http.createServer((req, res) => void handleRegistryRequest(req, res, { clientIp: req.socket.remoteAddress ?? null }));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const { user, team } = await signUp({ email: `hot-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Hot" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Hot", slug });
  await setExtraPatterns(ctx, slug, ["**"]);
  await createRegistry(ctx, { name: "Up", endpoint: upstream.url, username: "alice", password: "alice-pw" });
  const created = (await createCustomer(ctx, slug, { name: "Hot customer" })).license;
  const license = created.licenseId;
  licenseRowId = created.id;
  const name = `proxy/${slug}/127.0.0.1_${upstream.port}/acme/hot`;
  base = `http://${host}/v2/${name}`;
  basic = `Basic ${Buffer.from(`x:${license}`).toString("base64")}`;
  const token = (await (await fetch(`http://${host}/v2/token?scope=repository:${name}:pull`, { headers: { authorization: basic } })).json()) as { token: string };
  bearer = `Bearer ${token.token}`;
  const manifest = (await (await fetch(`${base}/manifests/1`, { headers: { authorization: bearer, accept: MANIFEST_ACCEPT } })).json()) as { layers: { digest: string }[] };
  blob = manifest.layers[0]!.digest;

  // A second app whose license is pinned to its release 1.0.0 (tag "1"): the by-digest check of a pinned license.
  const pinnedSlug = `${slug}-pin`;
  const pinnedApp = await createApp(ctx, { name: "Hot pinned", slug: pinnedSlug });
  // A release that recorded no digest for its tag: the digest is allowed only as what the tag was seen at.
  await db.release.create({
    data: {
      teamId: team.id,
      appId: pinnedApp.id,
      version: "1.0.0",
      createdByLabel: "test",
      images: { create: [{ appId: pinnedApp.id, image: `${upstream.host}/acme/hot:1`, status: "private", reason: "test", upstreamRepository: `127.0.0.1_${upstream.port}/acme/hot` }] },
    },
  });
  const pinnedLicense = (await createCustomer(ctx, pinnedSlug, { name: "Pinned customer" })).license;
  await setLicensePin(ctx, pinnedLicense.id, { maxVersion: "1.0.0" });
  const pinnedName = `proxy/${pinnedSlug}/127.0.0.1_${upstream.port}/acme/hot`;
  pinnedBase = `http://${host}/v2/${pinnedName}`;
  const pinnedToken = (await (await fetch(`http://${host}/v2/token?scope=repository:${pinnedName}:pull`, { headers: { authorization: `Basic ${Buffer.from(`x:${pinnedLicense.licenseId}`).toString("base64")}` } })).json()) as { token: string };
  pinnedBearer = `Bearer ${pinnedToken.token}`;
});
afterAll(async () => {
  proxy.close();
  await stopAll();
  cleanupImages();
});

const reads = (log: string[]) => log.filter((q) => /^\s*SELECT/i.test(q));
// The cache's hourly counters (CacheUsage) are flushed every 2 s whatever the traffic: one aggregate
// write that may land in any window, not a write per request; every other write counts.
const writes = (log: string[]) => log.filter((q) => /^\s*(INSERT|UPDATE|DELETE)/i.test(q) && !/CacheUsage/.test(q));

async function burst(path: string, authorization: string, n: number, headers: Record<string, string> = {}) {
  await fetch(`${base}/${path}`, { headers: { authorization, ...headers } }).then((r) => r.arrayBuffer()); // warm: cache filled, lookups remembered
  await flushPulls();
  takeQueryLog();
  const decrypts = secretDecrypts();
  const started = performance.now();
  // Ten at a time, as a cluster's nodes pull: the burst fits in a few 500 ms windows even on a loaded machine.
  for (let i = 0; i < n; i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, n - i) }, async () => {
        const res = await fetch(`${base}/${path}`, { headers: { authorization, ...headers } });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }),
    );
  }
  const elapsed = performance.now() - started;
  const during = takeQueryLog();
  await new Promise((r) => setTimeout(r, 20));
  await flushPulls();
  const flush = takeQueryLog();
  return { elapsed, during, flush, decrypts: secretDecrypts() - decrypts };
}

describe("the proxy's hot path", () => {
  it("a cached blob by Bearer token: no decrypt, no query in steady state, pull records written off the event loop", async () => {
    const n = 50;
    const recorded = () => db.pullEvent.count({ where: { licenseId: licenseRowId } });
    await flushPulls();
    const before = await recorded();
    const { elapsed, during, flush, decrypts } = await burst(`blobs/${blob}`, bearer, n);
    const windows = Math.ceil(elapsed / 500) + 1;
    console.log(`[hot-path] ${n} cached blob GETs (Bearer) in ${elapsed.toFixed(0)} ms: ${reads(during).length} reads, ${writes(during).length} writes while serving; ${writes(flush).length} writes on this thread to record them (the pull-log thread writes them); ${decrypts} decrypts`);
    expect(decrypts).toBe(0);
    expect(writes(during)).toEqual([]);
    // At most the lookups of one expired set (see the last test) per 500 ms window, whatever the request rate.
    expect(reads(during).length).toBeLessThanOrEqual(7 * windows);
    expect(reads(during).length).toBeLessThan(n / 2); // and far from one per request
    // Recorded all the same (the warm-up request too), by the writer thread: none of it on the serving thread.
    expect(writes(flush).map((q) => q.slice(0, 120))).toEqual([]);
    expect(await recorded()).toBe(before + n + 1);
  });

  it("a cached manifest by digest with Basic auth: the same", async () => {
    const n = 50;
    const { elapsed, during, decrypts } = await burst(`manifests/${manifestDigest}`, basic, n, { accept: MANIFEST_ACCEPT });
    const windows = Math.ceil(elapsed / 500) + 1;
    console.log(`[hot-path] ${n} cached manifest GETs by digest (Basic) in ${elapsed.toFixed(0)} ms: ${reads(during).length} reads, ${writes(during).length} writes; ${decrypts} decrypts`);
    expect(decrypts).toBe(0);
    expect(writes(during)).toEqual([]);
    expect(reads(during).length).toBeLessThanOrEqual(7 * windows);
    expect(reads(during).length).toBeLessThan(n / 2); // far from one per request: the failed-attempt guard of Basic is remembered too
  });

  it("a pinned license's manifest by digest after its tag: checked in memory, no tag record read", async () => {
    const n = 50;
    const headers = { authorization: pinnedBearer, accept: MANIFEST_ACCEPT };
    const byTag = await fetch(`${pinnedBase}/manifests/1`, { headers });
    expect(byTag.status).toBe(200);
    const digest = byTag.headers.get("docker-content-digest")!;
    pinnedDigest = digest;
    await byTag.arrayBuffer();
    await (await fetch(`${pinnedBase}/manifests/${digest}`, { headers })).arrayBuffer(); // warm
    // The tag's record is written after the answer, and cache counters every 2 s: both before counting.
    for (let i = 0; i < 100 && !(await db.cacheTag.findFirst({ where: { repository: "acme/hot", tag: "1", digest } })); i++) await new Promise((r) => setTimeout(r, 20));
    await flushCacheUsage();
    await flushPulls();
    takeQueryLog();
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${pinnedBase}/manifests/${digest}`, { headers });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const elapsed = performance.now() - started;
    const during = takeQueryLog();
    const windows = Math.ceil(elapsed / 500) + 1;
    console.log(`[hot-path] ${n} cached manifest GETs by digest (pinned license, Bearer) in ${elapsed.toFixed(0)} ms: ${reads(during).length} reads, ${writes(during).length} writes`);
    expect(writes(during)).toEqual([]);
    expect(reads(during).filter((q) => /CacheTag/.test(q))).toEqual([]);
    expect(reads(during).length).toBeLessThanOrEqual(7 * windows);
    expect(reads(during).length).toBeLessThan(n / 2); // and far from one per request
  });

  it("once every remembered lookup has expired, one request costs the license, registry, release-scope and link reads, and nothing else", async () => {
    await new Promise((r) => setTimeout(r, 2_200)); // past the 500 ms decision/registry and 2 s link lifetimes
    takeQueryLog();
    const res = await fetch(`${base}/blobs/${blob}`, { headers: { authorization: bearer } });
    await res.arrayBuffer();
    const log = takeQueryLog();
    // SQLite qualifies tables with "main", PostgreSQL with "public".
    const tables = reads(log).map((q) => /FROM\s+[`"]?(?:(?:main|public)[`"]?\.[`"]?)?(\w+)/i.exec(q)?.[1] ?? "?");
    console.log(`[hot-path] cold lookups, one cached blob GET: ${tables.length} reads (${tables.join(", ")}), ${writes(log).length} writes`);
    expect(res.status).toBe(200);
    // The license with its app (500 ms), the registry (500 ms), the app's release scope (750 ms snapshot: patterns, releases, their images and charts), the cache link (2 s).
    expect(new Set(tables)).toEqual(new Set(["License", "App", "Registry", "Release", "ReleaseImage", "ReleaseChart", "CacheLink"]));
    expect(tables.length).toBeLessThanOrEqual(8);
    expect(writes(log)).toEqual([]);
  });

  it("a pinned license's manifest by digest, every remembered lookup expired: the same reads, no tag record", async () => {
    await new Promise((r) => setTimeout(r, 2_200));
    takeQueryLog();
    const res = await fetch(`${pinnedBase}/manifests/${pinnedDigest}`, { headers: { authorization: pinnedBearer, accept: MANIFEST_ACCEPT } });
    await res.arrayBuffer();
    const log = takeQueryLog();
    const tables = reads(log).map((q) => /FROM\s+[`"]?(?:(?:main|public)[`"]?\.[`"]?)?(\w+)/i.exec(q)?.[1] ?? "?");
    console.log(`[hot-path] cold lookups, one pinned manifest GET by digest: ${tables.length} reads (${tables.join(", ")}), ${writes(log).length} writes`);
    expect(res.status).toBe(200);
    expect(new Set(tables)).toEqual(new Set(["License", "App", "Registry", "Release", "ReleaseImage", "ReleaseChart", "CacheLink"]));
    expect(tables.length).toBeLessThanOrEqual(8);
    expect(writes(log)).toEqual([]);
  });
});
