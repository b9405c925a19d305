import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import type { CacheScope } from "@/lib/cache/cache";
import { countCacheUse } from "@/lib/cache/usage";
import { log } from "@/lib/log";
import type { RegistryClient } from "@/lib/registry-client/client";
import { RegistryNetworkError, ResponseTooLargeError } from "@/lib/registry-client/errors";
import { BODY_LIMITS, readBounded, watchThroughput, type HttpResponse } from "@/lib/registry-client/http";
import { API_VERSION_HEADER, ProxyError } from "./errors";
import type { ProxyName } from "./paths";
import { drop, mapNetworkError, throwForUpstreamStatus, type ResourceKind } from "./upstream-errors";
import { proxyStreamFloor } from "./upstream";
import { digestOfBuffer, isVerifiableDigest, StreamDigestMismatchError, verifyingStream } from "./verify-digest";

/**
 * One authorized request to a proxied repository: what the blob, manifest
 * and pass-through code needs, and what it reports back for the pull log.
 */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  method: "GET" | "HEAD";
  name: ProxyName;
  registryId: string;
  client: RegistryClient;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Where cached content may come from for this request; null with the cache off. */
  scope: CacheScope | null;
  /** The license's team and app: whose counters this request adds to. */
  owner: { teamId: string; appId: string };
  /** Body bytes sent to the client. */
  bytes: number;
}

/**
 * The signal of an Exchange: aborted when the client goes away before its
 * response is complete. Made only when something asks for it (a cached answer
 * never does): an AbortController per request, and the DOMException that
 * abort() builds with a stack trace at every close, were ~10% of the serving
 * thread's CPU under load.
 */
export function clientGone(res: ServerResponse): { readonly signal: AbortSignal } {
  let controller: AbortController | undefined;
  let gone = false;
  res.once("close", () => {
    if (res.writableFinished) return; // answered in full: nothing to abort
    gone = true;
    controller?.abort();
  });
  return {
    get signal() {
      if (!controller) {
        controller = new AbortController();
        if (gone) controller.abort();
      }
      return controller.signal;
    },
  };
}

/** Response headers passed through from the upstream unchanged. */
const PASS_HEADERS = ["content-type", "content-length", "docker-content-digest", "etag", "content-range", "accept-ranges", "last-modified"];

export function passHeaders(upstream: HttpResponse): Record<string, string> {
  const out: Record<string, string> = { ...API_VERSION_HEADER };
  for (const h of PASS_HEADERS) {
    const v = upstream.headers[h];
    if (v !== undefined) out[h] = Array.isArray(v) ? v.join(", ") : String(v);
  }
  return out;
}

const upstreamScope = (x: Exchange) => `repository:${x.name.repository}:pull`;

/**
 * An upstream request on behalf of this exchange, aborted with the client,
 * unless `shared` (a fill or a tag HEAD that other requests join outlives
 * the client that started it; buffered requests are bounded by their deadline,
 * streamed ones by the throughput floor).
 */
export async function ask(x: Exchange, method: "GET" | "HEAD", path: string, headers: Record<string, string>, mode: "buffered" | "stream", options: { shared?: boolean } = {}): Promise<HttpResponse> {
  try {
    return await x.client.request(method, path, { scope: upstreamScope(x), headers, signal: options.shared ? undefined : x.signal, mode });
  } catch (e) {
    throw mapNetworkError(e, x.registryId);
  }
}

/**
 * The uncached way: the upstream's answer streamed to the client as it comes
 * (blobs under the throughput floor; manifests bounded to 4 MiB), for HEADs
 * of uncached content, ranges passed upstream, blobs too large to cache,
 * digests other than sha256, and everything when the cache is off.
 */
export async function passThrough(x: Exchange, kind: ResourceKind, reference: string, headers: Record<string, string>): Promise<void> {
  await passThroughHeaders(x, kind, reference, headers);
}

/** passThrough, returning the headers passed on (a tag's digest, for the record). */
export async function passThroughHeaders(x: Exchange, kind: ResourceKind, reference: string, headers: Record<string, string>): Promise<Record<string, string>> {
  const upstream = await ask(x, x.method, `v2/${x.name.repository}/${kind}/${reference}`, headers, kind === "blobs" ? "stream" : "buffered");
  const status = upstream.statusCode;
  // A whole body asked for by digest is checked as it passes (a range is part of one, and cannot be).
  const verify = status === 200 && isVerifiableDigest(reference) ? reference : null;
  if (status !== 200 && status !== 206 && status !== 304) await throwForUpstreamStatus(upstream, kind, `${x.name.repository}:${reference}`, x.registryId, x.client.host);
  const out = passHeaders(upstream);
  let limit = Infinity;
  if (kind === "manifests" && x.method === "GET" && status !== 304) {
    // Manifests are bounded like distribution bounds them; a declared length over
    // the limit is refused before a byte is sent, and a manifest without a length
    // is buffered (at most the limit) so the client still gets a clean error.
    limit = BODY_LIMITS.manifest;
    const declared = out["content-length"] === undefined ? undefined : Number(out["content-length"]);
    if (declared === undefined || !Number.isFinite(declared)) {
      let body: Buffer;
      try {
        body = await readBounded(upstream, limit, "a manifest", x.client.host);
      } catch (e) {
        throw mapNetworkError(e, x.registryId);
      }
      const actual = verify ? digestOfBuffer(verify, body) : null;
      if (verify && actual !== verify) {
        countMismatch(x, new StreamDigestMismatchError(verify, actual ?? "?", body.length));
        throw new ProxyError(502, "UNAVAILABLE", "The upstream registry sent a manifest that does not match the digest asked for.");
      }
      x.bytes = body.length;
      x.res.writeHead(status, { ...out, "content-length": String(body.length) });
      x.res.end(body);
      return out;
    }
    if (declared > limit) {
      upstream.body.destroy();
      throw mapNetworkError(new ResponseTooLargeError("a manifest", limit, x.client.host), x.registryId);
    }
  }
  x.res.writeHead(status, out);
  if (x.method === "HEAD" || status === 304) {
    drop(upstream);
    x.res.end();
    return out;
  }
  await streamUpstream(x, upstream.body, kind === "blobs", limit, verify);
  return out;
}

/** A digest mismatch on a stream: logged, counted on the app's cache page. */
function countMismatch(x: Exchange, e: StreamDigestMismatchError): void {
  log.error("upstream content does not match its digest; the response was cut short", { registryId: x.registryId, repository: x.name.repository, digest: e.expected, actual: e.actual, bytes: e.bytes });
  countCacheUse(x.owner.teamId, x.owner.appId, { digestMismatches: 1 });
}

/**
 * Streams an upstream body to the client (blobs under the throughput floor).
 * With `verify` (a digest), the body is hashed as it passes and the response
 * cut short on a mismatch (see verify-digest.ts).
 */
export async function streamUpstream(x: Exchange, body: HttpResponse["body"], blob: boolean, limit = Infinity, verify: string | null = null): Promise<void> {
  let bytes = 0;
  body.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
    x.bytes += chunk.length;
    if (bytes > limit) body.destroy(new ResponseTooLargeError("a manifest", limit, x.client.host));
  });
  const stopWatch = blob
    ? watchThroughput(
        () => bytes,
        proxyStreamFloor,
        () => {
          log.warn("upstream blob below the throughput floor; cut", { registryId: x.registryId, repository: x.name.repository, bytes, floor: proxyStreamFloor });
          body.destroy(new RegistryNetworkError("timeout", `${x.client.host} sent the blob too slowly.`, x.client.host));
        },
      )
    : () => undefined;
  try {
    if (verify) await pipeline(body, verifyingStream(verify), x.res);
    else await pipeline(body, x.res);
  } catch (e) {
    if (e instanceof StreamDigestMismatchError) countMismatch(x, e);
    cut(x, body, e);
  } finally {
    stopWatch();
  }
}

const COPY_CHUNK = 256 * 1024;

/**
 * Sends content Gantry holds (a cached file, or a fill in progress) to the
 * client with two buffers per response, reused: the next chunk is read while
 * the previous one is being written, and a buffer is filled again only after
 * the socket took it. Memory per client stays at 512 KiB however long the
 * blob, and streaming makes no garbage (a Readable would allocate a new
 * buffer per chunk: ~100 MB of RSS between collections at 8 × 1 GB).
 * `read` returns 0 at the end and throws when the source fails; either
 * failure cuts the response.
 */
export async function sendLocal(x: Exchange, read: (buf: Buffer) => Promise<number>): Promise<void> {
  const buffers = [Buffer.allocUnsafe(COPY_CHUNK), Buffer.allocUnsafe(COPY_CHUNK)];
  let writing: Promise<void> = Promise.resolve();
  let which = 0;
  // A write's callback settles even when the client goes away (with an error), and every
  // source read settles (a fill always ends): no long-lived promise to race against.
  const write = (chunk: Buffer) => new Promise<void>((resolve, reject) => x.res.write(chunk, (e) => (e ? reject(e) : resolve())));
  try {
    for (;;) {
      if (x.res.destroyed) throw new Error("client closed the connection");
      const buf = buffers[which]!;
      const n = await read(buf);
      await writing; // the other buffer is free again
      if (n === 0) break;
      writing = write(n === buf.length ? buf : buf.subarray(0, n));
      writing.catch(() => undefined); // awaited on the next turn
      x.bytes += n;
      which ^= 1;
    }
    await writing;
    x.res.end();
  } catch (e) {
    cut(x, null, e);
  }
}

/**
 * A body that dies mid-way, or a client that goes away: never end the
 * response cleanly, so the client's length/digest check cannot be fooled.
 */
function cut(x: Exchange, source: { destroy(): void } | null, e: unknown): void {
  x.res.destroy();
  source?.destroy();
  if (!x.signal.aborted) log.warn("stream aborted", { repository: x.name.repository, error: e instanceof Error ? e.message : String(e) });
}

export { ProxyError };
