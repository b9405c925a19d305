import "server-only";
import { db } from "@/lib/db";
import { log } from "@/lib/log";
import { metrics } from "@/lib/observe/metrics";
import { outsideRequest } from "@/lib/observe/request-context";

/**
 * Cache traffic counters (CacheUsage, per app and UTC hour), added up in
 * memory and written once a few seconds: the hot path never waits on them.
 * Every instance adds its own counts with increments, so several replicas
 * sharing a database sum correctly.
 */
export interface UsageDelta {
  hits?: number;
  misses?: number;
  bytesFromCache?: number;
  bytesFromUpstream?: number;
  staleServes?: number;
  evictions?: number;
  evictedBytes?: number;
  /** Upstream content that did not match its digest (never served whole, never cached). */
  digestMismatches?: number;
}

type Counts = Required<UsageDelta>;

const FLUSH_EVERY_MS = 2_000;
const MAX_PENDING_KEYS = 10_000;

const pending = new Map<string, { teamId: string; appId: string; hour: Date; counts: Counts }>();
let timer: NodeJS.Timeout | null = null;
let flushing: Promise<void> = Promise.resolve();

const zero = (): Counts => ({ hits: 0, misses: 0, bytesFromCache: 0, bytesFromUpstream: 0, staleServes: 0, evictions: 0, evictedBytes: 0, digestMismatches: 0 });

export function hourOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 3_600_000) * 3_600_000);
}

/** Adds to an app's counters for the current hour, and to the process's Prometheus series (no team or app label). */
export function countCacheUse(teamId: string, appId: string, delta: UsageDelta, at = new Date()): void {
  countInMetrics(delta);
  const hour = hourOf(at);
  const key = `${appId}@${hour.getTime()}`;
  let row = pending.get(key);
  if (!row) {
    if (pending.size >= MAX_PENDING_KEYS) {
      log.warn("cache usage counters dropped: too many pending", { pending: pending.size });
      return;
    }
    row = { teamId, appId, hour, counts: zero() };
    pending.set(key, row);
  }
  for (const [k, v] of Object.entries(delta) as [keyof Counts, number | undefined][]) row.counts[k] += v ?? 0;
  // The flush belongs to no request (its log lines must not carry this one's id).
  timer ??= outsideRequest(() => setTimeout(() => void flushCacheUsage(), FLUSH_EVERY_MS).unref());
}

/** Evictions are counted where a file goes (lib/cache/cache.ts), once per file rather than per app that held it. */
function countInMetrics(d: UsageDelta): void {
  if (d.hits) metrics.cacheHits.inc(d.hits);
  if (d.misses) metrics.cacheMisses.inc(d.misses);
  if (d.bytesFromCache) metrics.bytesFromCache.inc(d.bytesFromCache);
  if (d.bytesFromUpstream) metrics.bytesFromUpstream.inc(d.bytesFromUpstream);
  if (d.staleServes) metrics.staleServes.inc(d.staleServes);
  if (d.digestMismatches) metrics.digestMismatches.inc(d.digestMismatches);
}

/** Writes what is pending (tests and shutdown call it; a timer does otherwise). */
export function flushCacheUsage(): Promise<void> {
  flushing = flushing.then(writePending, writePending);
  return flushing;
}

async function writePending(): Promise<void> {
  if (timer) clearTimeout(timer);
  timer = null;
  const rows = [...pending.values()];
  pending.clear();
  for (const { teamId, appId, hour, counts } of rows) {
    const big = { bytesFromCache: BigInt(counts.bytesFromCache), bytesFromUpstream: BigInt(counts.bytesFromUpstream), evictedBytes: BigInt(counts.evictedBytes) };
    try {
      await db.cacheUsage.upsert({
        where: { appId_hour: { appId, hour } },
        create: { teamId, appId, hour, hits: counts.hits, misses: counts.misses, staleServes: counts.staleServes, evictions: counts.evictions, digestMismatches: counts.digestMismatches, ...big },
        update: {
          hits: { increment: counts.hits },
          misses: { increment: counts.misses },
          staleServes: { increment: counts.staleServes },
          evictions: { increment: counts.evictions },
          digestMismatches: { increment: counts.digestMismatches },
          bytesFromCache: { increment: big.bytesFromCache },
          bytesFromUpstream: { increment: big.bytesFromUpstream },
          evictedBytes: { increment: big.evictedBytes },
        },
      });
    } catch (e) {
      // The app may be gone (cascade); anything else is logged and the counts are lost, never the request.
      log.warn("could not write cache usage", { appId, error: e instanceof Error ? e.message : String(e) });
    }
  }
}
