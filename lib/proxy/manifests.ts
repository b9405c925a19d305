import crypto from "node:crypto";
import { proxyCache, type ProxyCache } from "@/lib/cache/cache";
import { DIGEST_PATTERN, isCacheableDigest } from "@/lib/cache/layout";
import { lastKnownTag, recordTag } from "@/lib/cache/links";
import { countCacheUse } from "@/lib/cache/usage";
import { noteManifest, noteTag, proxyTagKey } from "@/lib/releases/pinned-digests";
import { env } from "@/lib/env";
import { log } from "@/lib/log";
import { BODY_LIMITS, firstHeader, readBounded } from "@/lib/registry-client/http";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { API_VERSION_HEADER, ProxyError } from "./errors";
import { ask, passThrough, passThroughHeaders, type Exchange } from "./exchange";
import { drop, isOutage, mapNetworkError, throwForUpstreamStatus } from "./upstream-errors";

/**
 * GET and HEAD of a manifest.
 *
 * By digest: immutable, so cached (verified: the bytes must hash to the
 * digest asked for, else they are refused and nothing is kept).
 * By tag: the upstream is asked first with a HEAD (which Docker Hub does not
 * count against pull limits), so a moved tag is seen at once; when it names a
 * digest the cache has, the manifest comes from the cache. When the upstream is
 * unreachable, too slow, or answers 429/5xx, the tag's last known digest is
 * served for GANTRY_CACHE_STALE_TAG_SECONDS after it was last seen, and logged.
 */
export async function serveManifest(x: Exchange, reference: string): Promise<void> {
  const cache = proxyCache();
  const accept = String(x.req.headers.accept ?? MANIFEST_ACCEPT);
  const byDigest = reference.includes(":");
  if (!cache || !x.scope) {
    const headers = await passThroughHeaders(x, "manifests", reference, passHeadersFor(x, accept));
    // Uncached, the tag is still recorded: a pinned license's by-digest follow-up is checked against it.
    const digest = headers["docker-content-digest"];
    if (!byDigest && digest && DIGEST_PATTERN.test(digest)) tagSeen(x, reference, digest, headers["content-type"] ?? "application/vnd.oci.image.manifest.v1+json");
    return;
  }
  if (byDigest && !isCacheableDigest(reference)) return passThrough(x, "manifests", reference, passHeadersFor(x, accept));

  if (byDigest) {
    const cached = await cache.manifest(x.scope, reference);
    if (cached) return answer(x, reference, cached.body, cached.mediaType, "hit");
    const fetched = await fetchManifest(x, cache, reference, accept);
    return answer(x, fetched.digest, fetched.body, fetched.mediaType, "miss");
  }

  // By tag: what does the upstream say the tag is now?
  let head: { digest: string | null; mediaType: string | null };
  try {
    head = await headTag(x, reference, accept);
  } catch (e) {
    if (!isOutage(e)) throw e;
    return serveStale(x, cache, reference, accept, e);
  }
  if (head.digest) {
    const cached = await cache.manifest(x.scope, head.digest);
    if (cached) {
      tagSeen(x, reference, head.digest, cached.mediaType);
      return answer(x, head.digest, cached.body, cached.mediaType, "hit");
    }
  }
  let fetched;
  try {
    fetched = await fetchManifest(x, cache, reference, accept);
  } catch (e) {
    if (!isOutage(e)) throw e;
    return serveStale(x, cache, reference, accept, e);
  }
  // Fetched upstream: the cache lost it (a purge, say), so the tag is written whatever this process remembers.
  tagSeen(x, reference, fetched.digest, fetched.mediaType, { fetched: true });
  return answer(x, fetched.digest, fetched.body, fetched.mediaType, "miss");
}

/** What the upstream says a tag is now: recorded (stale serving, other replicas) and noted in memory (pinned licenses' digests). */
function tagSeen(x: Exchange, tag: string, digest: string, mediaType: string, options: { fetched?: boolean } = {}): void {
  noteTag(proxyTagKey(x.registryId, x.name.repository), tag, digest);
  void recordTag(x.registryId, x.name.repository, tag, digest, mediaType, options);
}

function passHeadersFor(x: Exchange, accept: string): Record<string, string> {
  const headers: Record<string, string> = { accept };
  if (x.req.headers["if-none-match"]) headers["if-none-match"] = String(x.req.headers["if-none-match"]);
  return headers;
}

/**
 * The digest the upstream gives a tag now (HEAD). A 429 or 5xx throws (an
 * outage); any other refusal yields no digest, and the GET that follows gets
 * the upstream's own error body to pass on (a HEAD answer has none).
 */
const tagHeads = new Map<string, Promise<{ digest: string | null; mediaType: string | null }>>();

/**
 * One HEAD in flight per (registry, repository, tag, Accept): requests for a
 * tag that arrive while its HEAD is out share its answer, which is at most one
 * round trip old. Under a burst of installs this is one upstream request
 * instead of one per client, and the upstream's own latency stops adding up.
 */
function headTag(x: Exchange, tag: string, accept: string): Promise<{ digest: string | null; mediaType: string | null }> {
  const key = `${x.registryId}\u0000${x.name.repository}\u0000${tag}\u0000${accept}`;
  let pending = tagHeads.get(key);
  if (!pending) {
    pending = headTagUpstream(x, tag, accept).finally(() => tagHeads.delete(key));
    tagHeads.set(key, pending);
  }
  return pending;
}

async function headTagUpstream(x: Exchange, tag: string, accept: string): Promise<{ digest: string | null; mediaType: string | null }> {
  // Shared by every request that joins it: not aborted with the first client (the 30 s deadline bounds it).
  const upstream = await ask(x, "HEAD", `v2/${x.name.repository}/manifests/${tag}`, { accept }, "buffered", { shared: true });
  const status = upstream.statusCode;
  if (status === 429 || status >= 500) await throwForUpstreamStatus(upstream, "manifests", `${x.name.repository}:${tag}`, x.registryId, x.client.host);
  drop(upstream);
  if (status !== 200) return { digest: null, mediaType: null };
  const digest = firstHeader(upstream.headers["docker-content-digest"]);
  return { digest: digest && DIGEST_PATTERN.test(digest) ? digest : null, mediaType: firstHeader(upstream.headers["content-type"]) ?? null };
}

/** GETs a manifest upstream (at most 4 MiB), checks it against the digest asked for, caches it. */
async function fetchManifest(x: Exchange, cache: ProxyCache, reference: string, accept: string): Promise<{ digest: string; body: Buffer; mediaType: string }> {
  const upstream = await ask(x, "GET", `v2/${x.name.repository}/manifests/${reference}`, { accept }, "buffered");
  if (upstream.statusCode !== 200) await throwForUpstreamStatus(upstream, "manifests", `${x.name.repository}:${reference}`, x.registryId, x.client.host);
  let body: Buffer;
  try {
    body = await readBounded(upstream, BODY_LIMITS.manifest, "a manifest", x.client.host);
  } catch (e) {
    throw mapNetworkError(e, x.registryId);
  }
  const mediaType = firstHeader(upstream.headers["content-type"]) || mediaTypeOf(body);
  const actual = `sha256:${crypto.createHash("sha256").update(body).digest("hex")}`;
  if (reference.includes(":") && actual !== reference) {
    log.error("upstream manifest does not match its digest; not cached, not served", { registryId: x.registryId, repository: x.name.repository, digest: reference, actual });
    countCacheUse(x.owner.teamId, x.owner.appId, { digestMismatches: 1 });
    throw new ProxyError(502, "UNAVAILABLE", "The upstream registry sent a manifest that does not match the digest asked for.");
  }
  // x.scope is set whenever the cache is (serveManifest checked).
  if (x.scope) await cache.putManifest(x.scope, body, mediaType);
  return { digest: actual, body, mediaType };
}

async function serveStale(x: Exchange, cache: ProxyCache, tag: string, accept: string, cause: unknown): Promise<void> {
  const failure = mapNetworkError(cause, x.registryId);
  const known = x.scope ? await lastKnownTag(x.registryId, x.name.repository, tag) : null;
  const windowMs = env().cache.staleTagSeconds * 1000;
  if (!known || !x.scope || Date.now() - known.seenAt.getTime() > windowMs || !accepts(accept, known.mediaType)) throw failure;
  const cached = await cache.manifest(x.scope, known.digest);
  if (!cached) throw failure;
  log.warn("upstream unavailable: served a tag's last known digest", {
    registryId: x.registryId,
    repository: x.name.repository,
    tag,
    digest: known.digest,
    lastSeen: known.seenAt.toISOString(),
    upstream: failure.message,
  });
  countCacheUse(x.scope.teamId, x.scope.appId, { staleServes: 1 });
  noteTag(proxyTagKey(x.registryId, x.name.repository), tag, known.digest);
  return answer(x, known.digest, cached.body, cached.mediaType, "hit");
}

function answer(x: Exchange, digest: string, body: Buffer, mediaType: string, outcome: "hit" | "miss"): void {
  // The body hashes to the digest here (cached or checked): an index's children are known for good.
  noteManifest(digest, body, mediaType);
  const headers = { ...API_VERSION_HEADER, "content-type": mediaType, "content-length": String(body.length), "docker-content-digest": digest, etag: `"${digest}"` };
  const ifNoneMatch = x.req.headers["if-none-match"];
  if (ifNoneMatch && String(ifNoneMatch).includes(digest)) {
    x.res.writeHead(304, headers);
    x.res.end();
    return;
  }
  x.res.writeHead(200, headers);
  if (x.method === "HEAD") {
    x.res.end();
    return;
  }
  x.bytes = body.length;
  x.res.end(body);
  if (x.scope) countCacheUse(x.scope.teamId, x.scope.appId, outcome === "hit" ? { hits: 1, bytesFromCache: body.length } : { misses: 1, bytesFromUpstream: body.length });
}


/** A manifest's mediaType field, for an upstream that sent no Content-Type. */
function mediaTypeOf(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { mediaType?: unknown };
    if (typeof parsed.mediaType === "string" && parsed.mediaType.length < 200) return parsed.mediaType;
  } catch {
    // not JSON: the client will say so
  }
  return "application/vnd.oci.image.manifest.v1+json";
}

/** Whether an Accept header admits a media type (no header or a wildcard admits all). */
function accepts(accept: string, mediaType: string): boolean {
  const types = accept.split(",").map((t) => t.split(";")[0]?.trim().toLowerCase());
  return types.some((t) => t === "*/*" || t === mediaType.toLowerCase() || t === "application/*");
}
