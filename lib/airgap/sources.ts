import "server-only";
import crypto from "node:crypto";
import { LRUCache } from "lru-cache";
import { proxyCache, type CacheScope, type UpstreamBlob } from "@/lib/cache/cache";
import type { Fill } from "@/lib/cache/fill";
import { isCacheableDigest } from "@/lib/cache/layout";
import { log } from "@/lib/log";
import { processWide } from "@/lib/process-wide";
import { ProxyError } from "@/lib/proxy/errors";
import { proxyStreamFloor } from "@/lib/proxy/upstream";
import { mapNetworkError, throwForUpstreamStatus } from "@/lib/proxy/upstream-errors";
import { digestOfBuffer } from "@/lib/proxy/verify-digest";
import type { RegistryClient } from "@/lib/registry-client/client";
import { RegistryNetworkError } from "@/lib/registry-client/errors";
import { BODY_LIMITS, firstHeader, readBounded, watchThroughput } from "@/lib/registry-client/http";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import type { ContentSource } from "./tar-archive";

/**
 * Where an image's bytes come from while a bundle streams: one interface for
 * the three places a release's images live. Manifests are read whole (they
 * are small and bounded, and the plan needs them to know every blob and its
 * size); blobs are opened for a byte range only when the archive reaches them.
 */
export interface ImageContent {
  /** The manifest (or index) stored under `digest`, verified against it. */
  manifest(digest: string, signal?: AbortSignal): Promise<{ bytes: Buffer; mediaType: string | null }>;
  /** Bytes [start, end] (inclusive) of the blob `digest` of `size` bytes. */
  blob(digest: string, size: number, start: number, end: number): Promise<ContentSource>;
}

/**
 * The piece a cached blob is read in. Measured with bench:airgap (1 GB warm
 * bundle, 2 cores): 1 MiB pieces cost Gantry ~3x the CPU of 256 KiB ones
 * (3.3 vs 1.0 CPU seconds per GB), 64 KiB pieces as much through per-piece
 * overhead; 256 and 512 KiB were the fastest.
 */
const CHUNK = 256 * 1024;

/** Manifest bytes checked against the digest they were asked by: a lying upstream is refused, not bundled. */
export function verifiedManifest(digest: string, bytes: Buffer, where: string): Buffer {
  const actual = digestOfBuffer(digest, bytes);
  if (actual !== digest) {
    log.error("a manifest does not match its digest while bundling", { where, digest, actual });
    throw new ProxyError(502, "UNAVAILABLE", `${where} sent a manifest that does not match ${digest}.`);
  }
  return bytes;
}

/** The media type a manifest declares in its own JSON (what an OCI layout's descriptor repeats). */
export function declaredMediaType(bytes: Buffer): string | null {
  try {
    const parsed = JSON.parse(bytes.toString("utf8")) as { mediaType?: unknown };
    return typeof parsed.mediaType === "string" ? parsed.mediaType : null;
  } catch {
    return null;
  }
}

/** Bytes [start, end] of a blob through a cursor-like reader, CHUNK at a time. */
export async function* readSpan(read: (buf: Buffer, at: number) => Promise<number>, start: number, end: number, done: () => void): AsyncGenerator<Buffer> {
  let pos = start;
  try {
    while (pos <= end) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, end - pos + 1));
      const n = await read(buf, pos);
      if (n === 0) throw new Error(`the blob ended at byte ${pos}, before byte ${end}`);
      pos += n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  } finally {
    done();
  }
}

/** Skips to `start` in a streamed body and yields through `end`: for an upstream that answered the whole blob. */
export async function* sliceStream(body: AsyncIterable<Buffer> & { destroy(error?: Error): void }, start: number, end: number): AsyncGenerator<Buffer> {
  let pos = 0;
  try {
    for await (const chunk of body) {
      const from = Math.max(0, start - pos);
      const to = Math.min(chunk.length, end - pos + 1);
      pos += chunk.length;
      if (from < to) yield chunk.subarray(from, to);
      if (pos > end) return;
    }
  } finally {
    body.destroy();
  }
}

/**
 * An upstream registry repository as the proxy reaches it: the vendor's
 * credentials (the team's registry) or none (a public image). With a cache
 * scope, content comes from the proxy's cache, and what is missing is fetched
 * once through the same coalesced fill as pulls (a bundle and a customer's
 * pull of the same layer share one upstream request) and kept; without one
 * (a public image, or the cache off), it is streamed from the upstream.
 */
export function upstreamContent(client: RegistryClient, repository: string, scope: CacheScope | null, registryId: string | undefined): ImageContent {
  const cache = scope ? proxyCache() : null;
  const authScope = `repository:${repository}:pull`;
  const get = async (path: string, headers: Record<string, string>, mode: "buffered" | "stream", signal?: AbortSignal) => {
    try {
      return await client.request("GET", `v2/${repository}/${path}`, { scope: authScope, headers, mode, ...(signal ? { signal } : {}) });
    } catch (e) {
      throw mapNetworkError(e, registryId, client.host);
    }
  };
  // The proxy's words for an upstream's refusal (no vendor host in what a customer reads), logged and counted as for pulls.
  const refused = (res: Awaited<ReturnType<typeof get>>, kind: "manifests" | "blobs", what: string) => throwForUpstreamStatus(res, kind, `${repository}@${what}`, registryId ?? "public", client.host);
  /** The blob from the upstream; `partial` when it honoured the range asked for (a 206), else the whole blob follows. */
  const fetchBlob = async (digest: string, range?: { start: number; end: number }): Promise<{ blob: UpstreamBlob; partial: boolean }> => {
    const res = await get(`blobs/${digest}`, range ? { range: `bytes=${range.start}-${range.end}` } : {}, "stream");
    if (res.statusCode !== 200 && res.statusCode !== 206) await refused(res, "blobs", digest);
    const length = Number(firstHeader(res.headers["content-length"]) ?? NaN);
    const partial = res.statusCode === 206;
    return { blob: { contentLength: !partial && Number.isFinite(length) && length >= 0 ? length : null, contentType: firstHeader(res.headers["content-type"]) ?? null, body: res.body }, partial };
  };
  const floorOf = (bytes: () => number, body: UpstreamBlob["body"], digest: string) =>
    watchThroughput(bytes, proxyStreamFloor, () => {
      log.warn("upstream blob below the throughput floor while bundling; cut", { repository, digest });
      body.destroy(new RegistryNetworkError("timeout", `${client.host} sent the blob too slowly.`, client.host));
    });
  /**
   * Bytes [start, end] straight from the upstream, not kept: under the throughput floor, and a whole
   * blob hashed as it passes with its last piece held back until the hash matches, so a lie ends the
   * stream short (a client never gets a complete archive with a wrong layer in it). A range of a blob
   * cannot be checked; the customer's skopeo checks every blob it pushes. `first`: an answer already
   * started for the whole blob (a fill the cache refused), used when the whole blob is wanted.
   */
  const streamed = async (digest: string, size: number, start: number, end: number, first?: UpstreamBlob): Promise<ContentSource> => {
    const whole = start === 0 && end === size - 1;
    if (first && !whole) first.body.destroy();
    const { blob: upstream, partial } = first && whole ? { blob: first, partial: false } : await fetchBlob(digest, whole ? undefined : { start, end });
    let got = 0;
    const counted = (async function* () {
      for await (const chunk of upstream.body) {
        got += chunk.length;
        yield chunk as Buffer;
      }
    })();
    const stop = floorOf(() => got, upstream.body, digest);
    const body = Object.assign(counted, { destroy: (e?: Error) => upstream.body.destroy(e) });
    const slice = partial ? sliceStream(body, 0, end - start) : sliceStream(body, start, end);
    const hash = whole && digest.startsWith("sha256:") ? crypto.createHash("sha256") : null;
    return (async function* () {
      try {
        let held: Buffer | null = null;
        for await (const chunk of slice) {
          if (held) yield held;
          hash?.update(chunk);
          held = chunk;
        }
        if (hash && `sha256:${hash.digest("hex")}` !== digest) {
          log.error("upstream blob does not match its digest while bundling; the download was cut short", { registryId, repository, digest });
          throw new ProxyError(502, "UNAVAILABLE", `The registry sent a blob that does not match ${digest}.`);
        }
        if (held) yield held;
      } finally {
        stop();
      }
    })();
  };
  return {
    async manifest(digest, signal) {
      if (cache && scope) {
        const hit = await cache.manifest(scope, digest);
        if (hit) return { bytes: hit.body, mediaType: hit.mediaType };
      }
      const remembered = scope ? undefined : publicManifests.get(`${client.host}/${repository}@${digest}`);
      if (remembered) return { bytes: remembered, mediaType: declaredMediaType(remembered) };
      const res = await get(`manifests/${digest}`, { accept: MANIFEST_ACCEPT }, "buffered", signal);
      if (res.statusCode !== 200) await refused(res, "manifests", digest);
      let bytes: Buffer;
      try {
        bytes = verifiedManifest(digest, await readBounded(res, BODY_LIMITS.manifest, "a manifest", client.host), "The registry");
      } catch (e) {
        throw e instanceof ProxyError ? e : mapNetworkError(e, registryId, client.host);
      }
      const mediaType = declaredMediaType(bytes) ?? firstHeader(res.headers["content-type"]) ?? null;
      if (cache && scope && mediaType) await cache.putManifest(scope, bytes, mediaType);
      if (!scope) publicManifests.set(`${client.host}/${repository}@${digest}`, bytes);
      return { bytes, mediaType };
    },
    async blob(digest, size, start, end) {
      if (cache && scope && isCacheableDigest(digest)) {
        const open = await cache.openBlob(scope, digest);
        if (open) return readSpan((buf, at) => open.fh.read(buf, 0, buf.length, at).then((r) => r.bytesRead), start, end, () => open.release());
        const joined = await cache.blobFill(scope, digest, async () => (await fetchBlob(digest)).blob, (fill: Fill, body) => floorOf(() => fill.written, body, digest));
        if (joined.kind === "fill") {
          const cursor = joined.fill.cursor(start, end + 1);
          return readSpan((buf) => cursor.read(buf), start, end, () => cursor.close());
        }
        // Not kept (too large for the cache, the team's fills all busy, the disk low): as an uncached blob.
        return streamed(digest, size, start, end, joined.upstream);
      }
      return streamed(digest, size, start, end);
    },
  };
}

/**
 * Public images' manifests by registry, repository and digest (verified, so
 * never stale): a public image has no team registry for the proxy's cache to
 * link it to, and a release page, a HEAD and each resumed range all read the
 * manifests again. Bounded by bytes.
 */
const publicManifests = processWide("airgap-public-manifests", () => new LRUCache<string, Buffer>({ maxSize: 32 * 1024 * 1024, sizeCalculation: (b) => Math.max(1, b.length) }));
