import { proxyCache, type UpstreamBlob } from "@/lib/cache/cache";
import type { Fill } from "@/lib/cache/fill";
import { isCacheableDigest } from "@/lib/cache/layout";
import { countCacheUse } from "@/lib/cache/usage";
import { log } from "@/lib/log";
import { RegistryNetworkError } from "@/lib/registry-client/errors";
import { firstHeader, watchThroughput } from "@/lib/registry-client/http";
import { API_VERSION_HEADER, ProxyError } from "./errors";
import { ask, passThrough, sendLocal, streamUpstream, type Exchange } from "./exchange";
import { parseRange, type ByteRange } from "./range";
import { throwForUpstreamStatus } from "./upstream-errors";
import { proxyStreamFloor } from "./upstream";

/**
 * GET and HEAD of a blob. Cached: answered from disk (ranges too). Not
 * cached: one upstream fetch per (registry, repository, digest) however many
 * clients ask at once, each streamed from the growing file as the bytes
 * arrive; the fill goes on when its first client leaves.
 *
 * A range on a blob still filling is served from the file when its first byte
 * is already there or close behind the fill (RANGE_AHEAD); further out it is
 * passed upstream as a range request, so a client resuming near the end of a
 * large layer does not wait for the whole layer to arrive first.
 */
export const RANGE_AHEAD = 8 * 1024 * 1024;

const OCTET = "application/octet-stream";

export async function serveBlob(x: Exchange, digest: string): Promise<void> {
  const cache = proxyCache();
  const rangeHeader = x.req.headers.range;
  if (!cache || !x.scope || !isCacheableDigest(digest)) {
    return passThrough(x, "blobs", digest, rangeHeader ? { range: String(rangeHeader) } : {});
  }
  const scope = x.scope;

  if (x.method === "HEAD") {
    const size = await cache.blobSize(scope, digest);
    if (size === null) return passThrough(x, "blobs", digest, {});
    x.res.writeHead(200, blobHeaders(digest, size, OCTET));
    x.res.end();
    return;
  }

  const open = await cache.openBlob(scope, digest);
  if (open) {
    const served: ByteRange | null = rangeHeader ? parseRange(String(rangeHeader), open.size) : null;
    if (served?.kind === "unsatisfiable") {
      open.release();
      throw rangeNotSatisfiable(open.size);
    }
    try {
      let pos = served?.start ?? 0;
      const end = served ? served.end + 1 : open.size;
      if (served) x.res.writeHead(206, { ...blobHeaders(digest, served.end - served.start + 1, OCTET), "content-range": `bytes ${served.start}-${served.end}/${open.size}` });
      else x.res.writeHead(200, blobHeaders(digest, open.size, OCTET));
      await sendLocal(x, async (buf) => {
        if (pos >= end) return 0;
        const { bytesRead } = await open.fh.read(buf, 0, Math.min(buf.length, end - pos), pos);
        if (bytesRead === 0) throw new Error("cached file shorter than its index says");
        pos += bytesRead;
        return bytesRead;
      });
    } finally {
      open.release();
      countCacheUse(scope.teamId, scope.appId, { hits: 1, bytesFromCache: x.bytes });
    }
    return;
  }

  const start = async (): Promise<UpstreamBlob> => {
    // Shared: the fill is everyone's and outlives the client that started it.
    const upstream = await ask(x, "GET", `v2/${x.name.repository}/blobs/${digest}`, {}, "stream", { shared: true });
    if (upstream.statusCode !== 200) await throwForUpstreamStatus(upstream, "blobs", `${x.name.repository}@${digest}`, x.registryId, x.client.host);
    const length = Number(firstHeader(upstream.headers["content-length"]) ?? NaN);
    return { contentLength: Number.isFinite(length) && length >= 0 ? length : null, contentType: firstHeader(upstream.headers["content-type"]) ?? null, body: upstream.body };
  };
  const floor = (fill: Fill, body: UpstreamBlob["body"]) =>
    watchThroughput(
      () => fill.written,
      proxyStreamFloor,
      () => {
        log.warn("upstream blob below the throughput floor; fill cut", { registryId: x.registryId, repository: x.name.repository, digest, bytes: fill.written, floor: proxyStreamFloor });
        body.destroy(new RegistryNetworkError("timeout", `${x.client.host} sent the blob too slowly.`, x.client.host));
      },
    );

  const joined = await cache.blobFill(scope, digest, start, floor);
  if (joined.kind === "pass") {
    // Not kept (over half the cache, too many fills, the disk below its floor): streamed
    // straight through, hashed as it passes.
    const length = joined.upstream.contentLength;
    x.res.writeHead(200, blobHeaders(digest, length, joined.upstream.contentType ?? OCTET));
    countCacheUse(scope.teamId, scope.appId, { misses: 1 });
    return streamUpstream(x, joined.upstream.body as Parameters<typeof streamUpstream>[1], true, Infinity, digest);
  }
  const { fill, initiator } = joined;
  const size = fill.expectedSize;
  const type = joined.contentType ?? OCTET;
  let cursor: ReturnType<Fill["cursor"]>;
  if (rangeHeader && size !== null) {
    const range = parseRange(String(rangeHeader), size);
    if (range?.kind === "unsatisfiable") throw rangeNotSatisfiable(size);
    if (range && range.start > fill.available() + RANGE_AHEAD && !fill.done) {
      // Far ahead of the fill: ask the upstream for just that range meanwhile.
      return passThrough(x, "blobs", digest, { range: String(rangeHeader) });
    }
    if (range) {
      x.res.writeHead(206, { ...blobHeaders(digest, range.end - range.start + 1, type), "content-range": `bytes ${range.start}-${range.end}/${size}` });
      cursor = fill.cursor(range.start, range.end + 1);
    } else {
      x.res.writeHead(200, blobHeaders(digest, size, type));
      cursor = fill.cursor();
    }
  } else if (rangeHeader) {
    // No length announced: a range cannot be resolved against the fill; the upstream answers it.
    return passThrough(x, "blobs", digest, { range: String(rangeHeader) });
  } else {
    x.res.writeHead(200, blobHeaders(digest, size, type));
    cursor = fill.cursor();
  }
  // The headers go now: the first bytes may take a while to arrive (and a reader waits for a batch).
  x.res.flushHeaders();
  try {
    await sendLocal(x, (buf) => cursor.read(buf));
  } finally {
    cursor.close();
    // The first client's request is the miss; those that joined its fill were spared an upstream fetch.
    countCacheUse(scope.teamId, scope.appId, initiator ? { misses: 1 } : { hits: 1, bytesFromCache: x.bytes });
  }
}

function blobHeaders(digest: string, length: number | null, type: string): Record<string, string> {
  return {
    ...API_VERSION_HEADER,
    "content-type": type,
    ...(length === null ? {} : { "content-length": String(length) }),
    "docker-content-digest": digest,
    etag: `"${digest}"`,
    "accept-ranges": "bytes",
  };
}

function rangeNotSatisfiable(size: number): ProxyError {
  return new ProxyError(416, "BLOB_UNKNOWN", `The requested range is not within the blob's ${size} bytes.`, { "content-range": `bytes */${size}` });
}
