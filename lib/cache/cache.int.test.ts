import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "@/lib/auth/sign-up";
import { createApp } from "@/lib/apps/apps";
import { proxyCache, resetProxyCacheForTests } from "@/lib/cache/cache";
import { contentPath } from "@/lib/cache/layout";
import { flushCacheUsage } from "@/lib/cache/usage";
import { db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { createCustomer, revokeLicense } from "@/lib/licenses/customers";
import { handleRegistryRequest } from "@/lib/proxy/handler";
import { createRegistry } from "@/lib/registries/registries";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { setExtraPatterns } from "@/lib/releases/scope";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";

/**
 * The proxy cache against a real distribution registry and skopeo, plus a
 * small controllable upstream (a blob that arrives when the test says so)
 * for what needs timing: streaming while filling, joining a fill, a client
 * leaving mid-fill, a digest mismatch.
 */
const run = promisify(execFile);
const skopeo = (args: string[]) => run("skopeo", args, { maxBuffer: 64 * 1024 * 1024 });

const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-cache-test-"));
let upstream: RunningRegistry;
let proxy: http.Server;
let proxyHost = "";
let ctx: TeamContext;
let license = "";
let licenseRowId = "";
let imageDigest = "";
const slug = `cache-${Date.now().toString(36)}`;

/** A slow upstream: /v2/acme/slow/blobs/<digest> sends the first half, then the rest when `release()` is called. */
const BIG = crypto.randomBytes(6 * 1024 * 1024);
const BIG_DIGEST = `sha256:${crypto.createHash("sha256").update(BIG).digest("hex")}`;
const LIAR_DIGEST = `sha256:${"e".repeat(64)}`;
let slow: http.Server;
let slowPort = 0;
let slowGets = 0;
let slowOpen = 0;
let releaseSlow: () => void = () => undefined;
let tagHeads = 0;
let tagGets = 0;
const TAG_MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: BIG_DIGEST, size: 1 }, layers: [] }));
const TAG_DIGEST = `sha256:${crypto.createHash("sha256").update(TAG_MANIFEST).digest("hex")}`;
let gate = Promise.resolve();

function resetGate() {
  gate = new Promise<void>((r) => (releaseSlow = r));
}

beforeAll(async () => {
  process.env.GANTRY_CACHE_DIR = cacheDir;
  process.env.GANTRY_CACHE_STALE_TAG_SECONDS = "3600";
  resetEnvForTests();
  resetProxyCacheForTests();
  upstream = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
  ({ digest: imageDigest } = await pushImage(await buildImage({ randomBytes: 3 * 1024 * 1024, files: { "c.txt": "cache\n" } }), { registry: upstream, repo: "acme/app", tag: "1", creds: "alice:alice-pw" }));

  resetGate();
  slow = http.createServer((req, res) => {
    const url = req.url ?? "";
    if (url === "/v2/") return void res.writeHead(200, { "content-type": "application/json" }).end("{}");
    if (url === `/v2/acme/slow/blobs/${BIG_DIGEST}` && req.method === "GET") {
      slowGets++;
      slowOpen++;
      res.on("close", () => slowOpen--);
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(BIG.length) });
      res.write(BIG.subarray(0, BIG.length / 2));
      void gate.then(() => res.end(BIG.subarray(BIG.length / 2)));
      return;
    }
    if (url === "/v2/acme/slowtag/manifests/1") {
      // A tag whose HEAD takes 300 ms: concurrent requests for it should share one.
      if (req.method === "HEAD") tagHeads++;
      else tagGets++;
      const headers = { "content-type": "application/vnd.oci.image.manifest.v1+json", "content-length": String(TAG_MANIFEST.length), "docker-content-digest": TAG_DIGEST };
      setTimeout(() => res.writeHead(200, headers).end(req.method === "HEAD" ? undefined : TAG_MANIFEST), req.method === "HEAD" ? 300 : 0);
      return;
    }
    if (url === `/v2/acme/liar/blobs/${LIAR_DIGEST}` && req.method === "GET") {
      slowGets++;
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "1024" });
      return void res.end(Buffer.alloc(1024, 7)); // not what the digest says
    }
    res.writeHead(404, { "content-type": "application/json" }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"no"}]}');
  });
  await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
  slowPort = (slow.address() as AddressInfo).port;

  proxy = http.createServer((req, res) => void handleRegistryRequest(req, res, { clientIp: req.socket.remoteAddress ?? null }));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyHost = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const { user, team } = await signUp({ email: `cache-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Cache" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Cache", slug });
  await setExtraPatterns(ctx, slug, ["**"]);
  await createRegistry(ctx, { name: "Upstream", endpoint: upstream.url, username: "alice", password: "alice-pw" });
  await createRegistry(ctx, { name: "Slow", endpoint: `http://127.0.0.1:${slowPort}`, username: "u", password: "p" });
  const c = await createCustomer(ctx, slug, { name: "Cached customer" });
  license = c.license.licenseId;
  licenseRowId = c.license.id;
});

afterAll(async () => {
  releaseSlow();
  proxy.close();
  slow.closeAllConnections();
  slow.close();
  await stopAll();
  cleanupImages();
  delete process.env.GANTRY_CACHE_DIR;
  delete process.env.GANTRY_CACHE_STALE_TAG_SECONDS;
  delete process.env.GANTRY_CACHE_MAX_BYTES;
  resetEnvForTests();
  resetProxyCacheForTests();
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

const image = () => `${proxyHost}/proxy/${slug}/127.0.0.1_${upstream.port}/acme/app`;
const auth = () => ({ authorization: `Basic ${Buffer.from(`LICENSE_ID:${license}`).toString("base64")}` });
const proxied = (upstreamPort: number, rest: string) => `http://${proxyHost}/v2/proxy/${slug}/127.0.0.1_${upstreamPort}/${rest}`;

async function pull(ref: string, dir: string): Promise<void> {
  await skopeo(["copy", "--src-tls-verify=false", "--src-creds", `LICENSE_ID:${license}`, `docker://${ref}`, `oci:${dir}:x`]);
}

/** sha256 of every blob file of an OCI layout, name → content hash. */
function layoutBlobs(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const blobs = path.join(dir, "blobs", "sha256");
  for (const name of fs.readdirSync(blobs)) out.set(name, crypto.createHash("sha256").update(fs.readFileSync(path.join(blobs, name))).digest("hex"));
  return out;
}

/** Everything the registry logged since the last call (distribution may log after answering: wait for a marker). */
async function logged(reg: RunningRegistry) {
  const marker = `/v2/?gantry-mark=${crypto.randomUUID()}`;
  await (await fetch(`${reg.url}${marker}`)).arrayBuffer();
  await expect.poll(() => reg.requests().some((r) => r.path === marker), { timeout: 5000 }).toBe(true);
  const records = reg.requests();
  reg.clearRequests();
  return records;
}

/** Blob GETs per digest in a registry's log. */
function blobGets(records: { method: string; path: string; status: number }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) {
    const m = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(r.path);
    if (r.method === "GET" && m?.[1] && r.status === 200) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  }
  return counts;
}

async function layerDigests(): Promise<string[]> {
  const res = await fetch(proxied(upstream.port, `acme/app/manifests/${imageDigest}`), { headers: { ...auth(), accept: MANIFEST_ACCEPT } });
  const manifest = (await res.json()) as { config: { digest: string }; layers: { digest: string }[] };
  return [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "gantry-cache-pull-"));

describe("proxy cache with skopeo and a real registry", () => {
  it("a cold and then a warm pull are byte-identical, and the upstream serves each blob once", async () => {
    await logged(upstream);
    const [cold, warm] = [tmp(), tmp()];
    await pull(`${image()}:1`, cold);
    const afterCold = blobGets(await logged(upstream));
    const layers = await layerDigests();
    for (const digest of layers) expect(afterCold.get(digest)).toBe(1);
    await pull(`${image()}:1`, warm);
    const afterWarm = await logged(upstream);
    expect(blobGets(afterWarm).size).toBe(0); // no blob crossed again
    expect(layoutBlobs(warm)).toEqual(layoutBlobs(cold));
    // The tag was still asked upstream (HEAD), so a moved tag would be seen.
    expect(afterWarm.some((r) => r.method === "HEAD" && r.path.endsWith("/manifests/1"))).toBe(true);
    for (const d of [cold, warm]) fs.rmSync(d, { recursive: true, force: true });

    await flushCacheUsage();
    const usage = await db.cacheUsage.findMany({ where: { teamId: ctx.team.id } });
    expect(usage.reduce((n, u) => n + u.hits, 0)).toBeGreaterThan(0);
    expect(usage.reduce((n, u) => n + u.misses, 0)).toBeGreaterThan(0);
    expect(usage.reduce((n, u) => n + Number(u.bytesFromCache), 0)).toBeGreaterThan(3 * 1024 * 1024);
  });

  it("answers HEAD and ranges of a cached blob from the cache", async () => {
    const [, layer] = await layerDigests();
    await logged(upstream);
    const head = await fetch(proxied(upstream.port, `acme/app/blobs/${layer}`), { method: "HEAD", headers: auth() });
    expect(head.status).toBe(200);
    expect(head.headers.get("docker-content-digest")).toBe(layer);
    const size = Number(head.headers.get("content-length"));
    expect(size).toBeGreaterThan(3 * 1024 * 1024);
    const range = await fetch(proxied(upstream.port, `acme/app/blobs/${layer}`), { headers: { ...auth(), range: "bytes=100-199" } });
    expect(range.status).toBe(206);
    expect(range.headers.get("content-range")).toBe(`bytes 100-199/${size}`);
    const full = Buffer.from(await (await fetch(proxied(upstream.port, `acme/app/blobs/${layer}`), { headers: auth() })).arrayBuffer());
    expect(Buffer.from(await range.arrayBuffer())).toEqual(full.subarray(100, 200));
    const past = await fetch(proxied(upstream.port, `acme/app/blobs/${layer}`), { headers: { ...auth(), range: `bytes=${size}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${size}`);
    expect(((await past.json()) as { errors: { code: string }[] }).errors[0]?.code).toBeTruthy();
    expect((await logged(upstream)).filter((r) => r.path.includes("/blobs/"))).toEqual([]);
  });

  it("detects a corrupted cache file, removes it and fetches the blob again", async () => {
    const [, layer = ""] = await layerDigests();
    const file = contentPath(cacheDir, layer);
    const bytes = fs.readFileSync(file);
    bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
    fs.writeFileSync(file, bytes);
    await logged(upstream);
    const res = await fetch(proxied(upstream.port, `acme/app/blobs/${layer}`), { headers: auth() });
    const body = Buffer.from(await res.arrayBuffer());
    expect(res.status).toBe(200);
    expect(`sha256:${crypto.createHash("sha256").update(body).digest("hex")}`).toBe(layer);
    // The corrupt file was dropped and the blob fetched again; the file is whole again.
    expect(blobGets(await logged(upstream)).get(layer)).toBe(1);
    expect(`sha256:${crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex")}`).toBe(layer);
  });

  it("after a tag moves upstream, the next pull gets the new digest", async () => {
    const { digest: moved } = await pushImage(await buildImage({ files: { "moved.txt": "moved\n" } }), { registry: upstream, repo: "acme/app", tag: "1", creds: "alice:alice-pw" });
    expect(moved).not.toBe(imageDigest);
    const res = await fetch(proxied(upstream.port, "acme/app/manifests/1"), { headers: { ...auth(), accept: MANIFEST_ACCEPT } });
    expect(res.headers.get("docker-content-digest")).toBe(moved);
    // Put the tag back for the tests that follow.
    await pushImage(await buildImage({ randomBytes: 3 * 1024 * 1024, files: { "c.txt": "cache\n" } }), { registry: upstream, repo: "acme/app", tag: "1", creds: "alice:alice-pw" });
    const back = await fetch(proxied(upstream.port, "acme/app/manifests/1"), { headers: { ...auth(), accept: MANIFEST_ACCEPT } });
    expect(back.headers.get("docker-content-digest")).toBe(imageDigest);
  });
});

describe("one upstream fetch for many clients", () => {
  it("streams a cold blob as it arrives, shares one upstream fetch among 16 clients, and survives one leaving", async () => {
    resetGate();
    slowGets = 0;
    const url = proxied(slowPort, `acme/slow/blobs/${BIG_DIGEST}`);
    const first = await fetch(url, { headers: auth() });
    expect(first.status).toBe(200);
    expect(first.headers.get("content-length")).toBe(String(BIG.length));
    // The first half reaches the client while the upstream still holds the rest.
    const reader = first.body!.getReader();
    let got = 0;
    while (got < BIG.length / 4) got += (await reader.read()).value?.length ?? 0;

    const quitter = new AbortController();
    const leaving = await fetch(url, { headers: auth(), signal: quitter.signal });
    await leaving.body!.getReader().read();
    quitter.abort();

    const others = await Promise.all(Array.from({ length: 15 }, () => fetch(url, { headers: auth() })));
    releaseSlow();
    const bodies = await Promise.all(others.map(async (r) => Buffer.from(await r.arrayBuffer())));
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    expect(slowGets).toBe(1);
    for (const b of bodies) expect(b.equals(BIG)).toBe(true);
    expect(got + Buffer.concat(chunks).length).toBe(BIG.length);
    await expect.poll(() => slowOpen, { timeout: 5000 }).toBe(0); // the fill ended and closed its upstream request
    const again = await fetch(url, { headers: auth() });
    expect(Buffer.from(await again.arrayBuffer()).equals(BIG)).toBe(true);
    expect(slowGets).toBe(1);
  });

  it("16 concurrent cold skopeo pulls of one image: one upstream fetch per blob, 16 identical copies", async () => {
    const { digest } = await pushImage(await buildImage({ randomBytes: 4 * 1024 * 1024, files: { "many.txt": "sixteen\n" } }), { registry: upstream, repo: "acme/many", tag: "1", creds: "alice:alice-pw" });
    await logged(upstream);
    const dirs = Array.from({ length: 16 }, () => tmp());
    await Promise.all(dirs.map((d) => pull(`${proxyHost}/proxy/${slug}/127.0.0.1_${upstream.port}/acme/many:1`, d)));
    const gets = blobGets(await logged(upstream));
    const manifest = (await (await fetch(proxied(upstream.port, `acme/many/manifests/${digest}`), { headers: { ...auth(), accept: MANIFEST_ACCEPT } })).json()) as { config: { digest: string }; layers: { digest: string }[] };
    for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) expect(gets.get(d)).toBe(1);
    const first = layoutBlobs(dirs[0]!);
    for (const d of dirs) expect(layoutBlobs(d)).toEqual(first);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it("requests for one tag that arrive together share one upstream HEAD, and the manifest is fetched once", async () => {
    tagHeads = 0;
    tagGets = 0;
    const answers = await Promise.all(Array.from({ length: 16 }, () => fetch(proxied(slowPort, "acme/slowtag/manifests/1"), { headers: { ...auth(), accept: MANIFEST_ACCEPT } })));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.headers.get("docker-content-digest")).toBe(TAG_DIGEST);
      expect(Buffer.from(await a.arrayBuffer()).equals(TAG_MANIFEST)).toBe(true);
    }
    expect(tagHeads).toBe(1);
    expect(tagGets).toBeLessThanOrEqual(16); // before the first GET lands, each may fetch it; after, none
    // The next request asks again: a tag is never answered from memory alone.
    await (await fetch(proxied(slowPort, "acme/slowtag/manifests/1"), { headers: { ...auth(), accept: MANIFEST_ACCEPT } })).arrayBuffer();
    expect(tagHeads).toBe(2);
  });

  it("never serves content whose digest does not match: the response is cut and nothing is cached", async () => {
    slowGets = 0;
    const url = proxied(slowPort, `acme/liar/blobs/${LIAR_DIGEST}`);
    // The response is cut: before its headers or within its body, depending on how far the
    // fill got when the mismatch was found; either way the client never gets the content whole.
    const attempt = async () => {
      const res = await fetch(url, { headers: auth() });
      expect(res.headers.get("content-length")).toBe("1024");
      return res.arrayBuffer();
    };
    await expect(attempt()).rejects.toThrow();
    expect(fs.existsSync(contentPath(cacheDir, LIAR_DIGEST))).toBe(false);
    await expect(attempt()).rejects.toThrow();
    expect(slowGets).toBe(2);
  });
});

describe("access control and outages", () => {
  it("with the upstream down, serves cached content by digest, by tag within the stale window, and fails cleanly after it", async () => {
    const layers = await layerDigests();
    await upstream.stop();
    try {
      const byTag = await fetch(proxied(upstream.port, "acme/app/manifests/1"), { headers: { ...auth(), accept: MANIFEST_ACCEPT } });
      expect(byTag.status).toBe(200);
      expect(byTag.headers.get("docker-content-digest")).toBe(imageDigest);
      const byDigest = await fetch(proxied(upstream.port, `acme/app/manifests/${imageDigest}`), { headers: { ...auth(), accept: MANIFEST_ACCEPT } });
      expect(byDigest.status).toBe(200);
      for (const d of layers) expect((await fetch(proxied(upstream.port, `acme/app/blobs/${d}`), { headers: auth() })).status).toBe(200);
      const dir = tmp();
      await pull(`${image()}:1`, dir);
      await pull(`${image()}@${imageDigest}`, tmp());
      expect(fs.existsSync(path.join(dir, "index.json"))).toBe(true);

      // Past the window: the tag's last sighting is too old to stand in.
      await db.cacheTag.updateMany({ data: { seenAt: new Date(Date.now() - 2 * 3600_000) } });
      const stale = await fetch(proxied(upstream.port, "acme/app/manifests/1"), { headers: { ...auth(), accept: MANIFEST_ACCEPT } });
      expect(stale.status).toBe(502);
      expect(await stale.json()).toEqual({ errors: [{ code: "UNAVAILABLE", message: "The upstream registry is unreachable.", detail: null }] });
      // By digest still works: content by digest never goes stale.
      expect((await fetch(proxied(upstream.port, `acme/app/manifests/${imageDigest}`), { headers: { ...auth(), accept: MANIFEST_ACCEPT } })).status).toBe(200);
      await flushCacheUsage();
      const usage = await db.cacheUsage.findMany({ where: { teamId: ctx.team.id } });
      expect(usage.reduce((n, u) => n + u.staleServes, 0)).toBeGreaterThanOrEqual(2);
    } finally {
      await upstream.restart();
    }
  });

  it("denies a revoked license even for cached content, at once", async () => {
    const [, layer] = await layerDigests();
    expect((await fetch(proxied(upstream.port, `acme/app/blobs/${layer}`), { headers: auth() })).status).toBe(200);
    await revokeLicense(ctx, licenseRowId, "test");
    const denied = await fetch(proxied(upstream.port, `acme/app/blobs/${layer}`), { headers: auth() });
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as { errors: { message: string }[] }).errors[0]?.message).toMatch(/revoked/);
    const manifest = await fetch(proxied(upstream.port, `acme/app/manifests/${imageDigest}`), { headers: { ...auth(), accept: MANIFEST_ACCEPT } });
    expect(manifest.status).toBe(401);
    const restored = await createCustomer(ctx, slug, { name: "Cached customer 2" });
    license = restored.license.licenseId;
    licenseRowId = restored.license.id;
  });

  it("serves cached content only under the repository it was fetched from: a digest learned elsewhere unlocks nothing", async () => {
    const [, layer] = await layerDigests();
    await logged(upstream);
    // acme/elsewhere is in the app's scope but does not hold the layer: the upstream decides, and says 404.
    const res = await fetch(proxied(upstream.port, `acme/elsewhere/blobs/${layer}`), { headers: auth() });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe("BLOB_UNKNOWN");
    expect(blobGets((await logged(upstream)).map((r) => ({ ...r, status: 200 }))).size).toBe(1);
    const head = await fetch(proxied(upstream.port, `acme/elsewhere/blobs/${layer}`), { method: "HEAD", headers: auth() });
    expect(head.status).toBe(404);
  });
});

describe("eviction", () => {
  it("keeps the cache under a small GANTRY_CACHE_MAX_BYTES, least recently used first", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-cache-small-"));
    process.env.GANTRY_CACHE_DIR = dir;
    process.env.GANTRY_CACHE_MAX_BYTES = String(8 * 1024 * 1024);
    resetEnvForTests();
    resetProxyCacheForTests();
    try {
      const pushed: string[] = [];
      for (let i = 0; i < 4; i++) {
        const { digest } = await pushImage(await buildImage({ randomBytes: 3 * 1024 * 1024, files: { "n.txt": `evict ${i}\n` } }), { registry: upstream, repo: `acme/evict${i}`, tag: "1", creds: "alice:alice-pw" });
        pushed.push(digest);
      }
      for (let i = 0; i < 4; i++) {
        const out = tmp();
        await skopeo(["copy", "--src-tls-verify=false", "--src-creds", `LICENSE_ID:${license}`, `docker://${proxyHost}/proxy/${slug}/127.0.0.1_${upstream.port}/acme/evict${i}:1`, `oci:${out}:x`]);
        fs.rmSync(out, { recursive: true, force: true });
        const cache = proxyCache();
        expect(cache!.store.bytes).toBeLessThanOrEqual(8 * 1024 * 1024);
      }
      const cache = proxyCache()!;
      // The most recent image is in the cache; the first one was evicted, file and all.
      expect(cache.store.has(pushed[3]!)).toBe(true);
      expect(cache.store.has(pushed[0]!)).toBe(false);
      expect(fs.existsSync(contentPath(dir, pushed[0]!))).toBe(false);
      await flushCacheUsage();
      const usage = await db.cacheUsage.findMany({ where: { teamId: ctx.team.id } });
      expect(usage.reduce((n, u) => n + u.evictions, 0)).toBeGreaterThan(0);
      // Evicted content is unlinked, so the Cache page does not count it as stored.
      const linked = await db.cacheLink.findMany({ where: { teamId: ctx.team.id, registry: { endpoint: upstream.url } }, select: { digest: true } });
      for (const { digest } of linked) expect(cache.store.has(digest) || !fs.existsSync(contentPath(dir, digest))).toBe(true);
    } finally {
      process.env.GANTRY_CACHE_DIR = cacheDir;
      delete process.env.GANTRY_CACHE_MAX_BYTES;
      resetEnvForTests();
      resetProxyCacheForTests();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
