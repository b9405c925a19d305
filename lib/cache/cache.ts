import "server-only";
import crypto from "node:crypto";
import { LRUCache } from "lru-cache";
import { db } from "@/lib/db";
import { belowDiskFloor } from "@/lib/disk/free-space";
import { env } from "@/lib/env";
import { log } from "@/lib/log";
import { metrics, onScrape } from "@/lib/observe/metrics";
import { DigestMismatchError, Fill } from "./fill";
import { findLink, markLinkUsed, saveLink, unlinkDigest, type Link } from "./links";
import { ContentStore, type OpenContent } from "./store";
import { countCacheUse } from "./usage";

/**
 * The proxy's cache: what the registry proxy asks before it goes upstream,
 * and how it fills. Content is addressed by digest (ContentStore); who may be
 * served it is a CacheLink per (app, registry, repository, digest), created
 * only when that content was fetched from that registry repository, so a
 * digest learned elsewhere unlocks nothing.
 *
 * Blobs: one upstream fetch per (registry, repository, digest) at a time
 * (`blobFill`): concurrent misses join it and read the growing file. Manifests
 * by digest are cached whole, and the small ones also in memory.
 */
export interface CacheScope {
  teamId: string;
  appId: string;
  registryId: string;
  /** Upstream repository path, e.g. "acme/api". */
  repository: string;
}

/** The upstream's answer a fill starts from: a 200 with the blob streaming in. */
export interface UpstreamBlob {
  contentLength: number | null;
  contentType: string | null;
  body: AsyncIterable<Buffer> & { destroy(error?: Error): void };
}

/** Why a blob is streamed through instead of cached. */
export type PassReason = "too-large" | "busy" | "disk";

export type BlobFill =
  | { kind: "fill"; fill: Fill; contentType: string | null; initiator: boolean }
  /**
   * Streamed straight through, not kept: too large to cache (over half the
   * cache), too many fills at once (in all, or for the team), or the disk is
   * below its free-space floor.
   */
  | { kind: "pass"; upstream: UpstreamBlob; reason: PassReason };

/** How many fills may run at once, in all and per team (GANTRY_CACHE_MAX_FILLS, _PER_TEAM). */
export interface FillLimits {
  total: number;
  perTeam: number;
}

const MANIFEST_MEMORY_BYTES = 32 * 1024 * 1024;
/** Room reserved up front for a blob of unknown length (the fill reserves more as it arrives). */
const FIRST_RESERVATION = 8 * 1024 * 1024;

export class ProxyCache {
  readonly store: ContentStore;
  readonly ready: Promise<void>;
  private readonly fills = new Map<string, Promise<{ kind: "fill"; fill: Fill; contentType: string | null; joined: Map<string, CacheScope> } | { kind: "pass"; upstream: UpstreamBlob; reason: PassReason }>>();
  private readonly manifests = new LRUCache<string, Buffer>({ maxSize: MANIFEST_MEMORY_BYTES, sizeCalculation: (b) => Math.max(1, b.length) });
  /** Fills running now, in all and per team: each holds a temp file and a disk writer. */
  private running = 0;
  private readonly runningByTeam = new Map<string, number>();

  constructor(
    dir: string,
    maxBytes: number,
    private readonly limits: FillLimits = { total: 64, perTeam: 16 },
  ) {
    this.store = new ContentStore({ dir, maxBytes, onEvict: (digest, size) => void this.evicted(digest, size) });
    this.ready = this.store.init().catch((e: unknown) => {
      log.error("the proxy cache directory could not be read; caching is off until restart", { dir, error: e });
      throw e;
    });
    this.ready.catch(() => undefined);
  }

  /** The link that lets this scope be served a digest; shared within the team's registry repository. */
  async link(scope: CacheScope, digest: string): Promise<Link | null> {
    const key = { appId: scope.appId, registryId: scope.registryId, repository: scope.repository, digest };
    const own = await findLink(key);
    if (own) return own;
    if (!this.store.has(digest)) return null;
    // Fetched from this very registry repository for another app of the team: the same upstream fact.
    const sibling = await db.cacheLink.findFirst({ where: { registryId: scope.registryId, repository: scope.repository, digest } });
    if (!sibling) return null;
    const link = { teamId: scope.teamId, ...key, kind: sibling.kind === "manifest" ? ("manifest" as const) : ("blob" as const), mediaType: sibling.mediaType, size: Number(sibling.size) };
    await saveLink(link);
    return { id: sibling.id, ...link };
  }

  /** Size of a cached blob for HEAD (no I/O beyond the link lookup), or null. */
  async blobSize(scope: CacheScope, digest: string): Promise<number | null> {
    await this.ready;
    const link = await this.link(scope, digest);
    if (!link) return null;
    return this.store.sizeOf(digest) ?? null;
  }

  /** A cached blob opened for reading (the caller releases it), or null on a miss. */
  async openBlob(scope: CacheScope, digest: string): Promise<OpenContent | null> {
    await this.ready;
    const link = await this.link(scope, digest);
    if (!link) return null;
    const open = await this.store.open(digest);
    if (open) markLinkUsed(link.id);
    return open;
  }

  /** Fills running now (tests and diagnostics). */
  fillsRunning(teamId?: string): number {
    return teamId === undefined ? this.running : (this.runningByTeam.get(teamId) ?? 0);
  }

  /** Takes a fill slot for the team and reserves room for it, or says why not. */
  private async admit(teamId: string, contentLength: number | null): Promise<{ refused: PassReason } | { reservation: { bytes: number; release: () => void } }> {
    if (contentLength !== null && contentLength > this.store.maxBytes / 2) return { refused: "too-large" };
    if (this.running >= this.limits.total || (this.runningByTeam.get(teamId) ?? 0) >= this.limits.perTeam) return { refused: "busy" };
    if (await belowDiskFloor(this.store.dir)) return { refused: "disk" };
    // Checked again after the await: another fill may have taken the last slot meanwhile.
    if (this.running >= this.limits.total || (this.runningByTeam.get(teamId) ?? 0) >= this.limits.perTeam) return { refused: "busy" };
    const bytes = contentLength ?? FIRST_RESERVATION;
    const release = this.store.tryReserve(bytes);
    if (!release) return { refused: "busy" };
    this.running++;
    this.runningByTeam.set(teamId, (this.runningByTeam.get(teamId) ?? 0) + 1);
    return { reservation: { bytes, release } };
  }

  private release(teamId: string): void {
    this.running--;
    const n = (this.runningByTeam.get(teamId) ?? 1) - 1;
    if (n <= 0) this.runningByTeam.delete(teamId);
    else this.runningByTeam.set(teamId, n);
  }

  /**
   * Joins the fill of (registry, repository, digest) in progress, or starts one
   * with `start` (the upstream GET). A failed start fails every caller that
   * joined it, with the same error: one upstream request however many ask.
   * A fill needs a slot (GANTRY_CACHE_MAX_FILLS in all, _PER_TEAM for the
   * registry's team) and free disk above the floor; without them, or for a
   * blob over half the cache, the caller streams the blob through uncached.
   */
  async blobFill(scope: CacheScope, digest: string, start: () => Promise<UpstreamBlob>, floor: (fill: Fill, body: UpstreamBlob["body"]) => () => void): Promise<BlobFill> {
    await this.ready;
    const key = `${scope.registryId}\u0000${scope.repository}\u0000${digest}`;
    let pending = this.fills.get(key);
    const initiator = !pending;
    if (!pending) {
      pending = (async () => {
        const upstream = await start();
        const admitted = await this.admit(scope.teamId, upstream.contentLength);
        if ("refused" in admitted) {
          metrics.passThrough.labels(admitted.refused).inc();
          if (admitted.refused !== "too-large") log.info("blob streamed through uncached", { reason: admitted.refused, teamId: scope.teamId, digest, fills: this.running });
          return { kind: "pass" as const, upstream, reason: admitted.refused };
        }
        const joined = new Map<string, CacheScope>([[scope.appId, scope]]);
        const fill = new Fill(upstream.body, {
          store: this.store,
          digest,
          expectedSize: upstream.contentLength,
          maxBytes: Math.floor(this.store.maxBytes / 2),
          reservation: admitted.reservation,
          onComplete: (size) => {
            countCacheUse(scope.teamId, scope.appId, { bytesFromUpstream: size });
            for (const s of joined.values()) void saveLink({ teamId: s.teamId, appId: s.appId, registryId: s.registryId, repository: s.repository, digest, kind: "blob", mediaType: null, size });
          },
        });
        const stopFloor = floor(fill, upstream.body);
        void fill.finished.finally(() => {
          stopFloor();
          this.release(scope.teamId);
          metrics.fills.labels(fill.error ? "failed" : "completed").inc();
          if (fill.error instanceof DigestMismatchError) countCacheUse(scope.teamId, scope.appId, { digestMismatches: 1 });
          this.fills.delete(key);
        });
        return { kind: "fill" as const, fill, contentType: upstream.contentType, joined };
      })();
      this.fills.set(key, pending);
      pending.then(
        (r) => r.kind === "pass" && this.fills.delete(key),
        () => this.fills.delete(key),
      );
    }
    const started = await pending;
    if (started.kind === "pass") return initiator ? started : { kind: "pass", upstream: await start(), reason: started.reason };
    if (started.fill.error && !initiator) {
      // Failed and not yet cleared away: a retry deserves a new upstream fetch, not the failure.
      if (this.fills.get(key) === pending) this.fills.delete(key);
      return this.blobFill(scope, digest, start, floor);
    }
    started.joined.set(scope.appId, scope);
    return { kind: "fill", fill: started.fill, contentType: started.contentType, initiator };
  }

  /** A cached manifest for this scope, or null on a miss. */
  async manifest(scope: CacheScope, digest: string): Promise<{ body: Buffer; mediaType: string } | null> {
    await this.ready;
    const link = await this.link(scope, digest);
    if (!link || link.kind !== "manifest") return null;
    let body = this.manifests.get(digest);
    if (!body) {
      const read = await this.store.read(digest);
      if (!read) return null;
      body = read;
      this.manifests.set(digest, body);
    }
    markLinkUsed(link.id);
    return { body, mediaType: link.mediaType ?? "application/vnd.oci.image.manifest.v1+json" };
  }

  /**
   * Caches a manifest fetched upstream. Returns its digest; when the caller
   * asked by digest and the bytes hash to another one, nothing is cached
   * (and the caller refuses to serve them).
   */
  async putManifest(scope: CacheScope, body: Buffer, mediaType: string): Promise<string> {
    await this.ready;
    const digest = `sha256:${crypto.createHash("sha256").update(body).digest("hex")}`;
    await this.store.put(digest, body);
    this.manifests.set(digest, body);
    await saveLink({ ...scope, digest, kind: "manifest", mediaType, size: body.length });
    return digest;
  }

  private async evicted(digest: string, size: number): Promise<void> {
    this.manifests.delete(digest);
    metrics.evictions.inc();
    metrics.evictedBytes.inc(size);
    try {
      for (const { teamId, appId } of await unlinkDigest(digest)) countCacheUse(teamId, appId, { evictions: 1, evictedBytes: size });
    } catch (e) {
      log.warn("could not unlink an evicted digest", { digest, error: e instanceof Error ? e.message : String(e) });
    }
  }
}

let instance: ProxyCache | null | undefined;

// Read when /metrics is scraped: this process's cache, if it has one yet.
onScrape("cache", () => {
  if (!instance) return;
  metrics.storedBytes.set(instance.store.bytes);
  metrics.maxBytes.set(instance.store.maxBytes);
  metrics.fillsRunning.set(instance.fillsRunning());
});

/** This process's cache, or null when GANTRY_CACHE_MAX_BYTES=0. */
export function proxyCache(): ProxyCache | null {
  if (instance === undefined) {
    const { dir, maxBytes, maxFills, maxFillsPerTeam } = env().cache;
    instance = maxBytes > 0 ? new ProxyCache(dir, maxBytes, { total: maxFills, perTeam: maxFillsPerTeam }) : null;
  }
  return instance;
}

/** For tests: a new cache on the next call (after the environment changed). */
export function resetProxyCacheForTests(): void {
  instance = undefined;
}
