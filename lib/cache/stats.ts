import "server-only";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { diskUsage } from "./disk-walk";
import { contentRoot } from "./layout";

/**
 * What the Cache page and `gantry cache stats` show. Reads CacheLink (what is
 * stored, per app) and CacheUsage (traffic per app and UTC hour), through
 * Prisma only (no SQL), so PostgreSQL works the same. Byte counts are BigInt in
 * the database and plain numbers here (JSON and React props cannot carry
 * BigInt; 2^53 bytes is 8 PiB).
 *
 * Team functions take the team id from the caller's resolved context
 * (teamPageContext), never from the client, and every query filters by it.
 */

/** The chart's window: the last 48 hours by hour, or the last 14 days by day (UTC). */
export type CacheRange = "48h" | "14d";
const DEFAULT_CACHE_RANGE: CacheRange = "14d";

const RANGES: Record<CacheRange, { unitMs: number; buckets: number }> = {
  "48h": { unitMs: 3_600_000, buckets: 48 },
  "14d": { unitMs: 86_400_000, buckets: 14 },
};

/** A range from a search parameter; anything else is the default. */
export function parseCacheRange(value: unknown): CacheRange {
  return value === "48h" || value === "14d" ? value : DEFAULT_CACHE_RANGE;
}

/** The first bucket's start and every bucket's start, oldest first, ending with the one `now` is in. */
export function rangeBuckets(range: CacheRange, now: Date): Date[] {
  const { unitMs, buckets } = RANGES[range];
  // Hours and days both start at multiples of their length since the epoch in UTC.
  const current = Math.floor(now.getTime() / unitMs) * unitMs;
  return Array.from({ length: buckets }, (_, i) => new Date(current - (buckets - 1 - i) * unitMs));
}

const n = (v: bigint | number | null | undefined): number => Number(v ?? 0);

const USAGE_SUMS = {
  hits: true,
  misses: true,
  bytesFromCache: true,
  bytesFromUpstream: true,
  staleServes: true,
  evictions: true,
  evictedBytes: true,
  digestMismatches: true,
} as const;

type UsageSums = {
  hits: number | null;
  misses: number | null;
  bytesFromCache: bigint | null;
  bytesFromUpstream: bigint | null;
  staleServes: number | null;
  evictions: number | null;
  evictedBytes: bigint | null;
  digestMismatches: number | null;
};

/** Traffic counters as numbers, with the hit ratio (hits over GETs; null before the first GET). */
export function usageTotals(sum: Partial<UsageSums> | null | undefined) {
  const hits = n(sum?.hits);
  const misses = n(sum?.misses);
  return {
    hits,
    misses,
    hitRatio: hits + misses > 0 ? hits / (hits + misses) : null,
    bytesFromCache: n(sum?.bytesFromCache),
    bytesFromUpstream: n(sum?.bytesFromUpstream),
    staleServes: n(sum?.staleServes),
    evictions: n(sum?.evictions),
    evictedBytes: n(sum?.evictedBytes),
    digestMismatches: n(sum?.digestMismatches),
  };
}

/**
 * Distinct digests and their bytes among some CacheLinks: content shared by
 * several apps or repositories is one file on disk, so it counts once.
 */
async function storedContent(where: { teamId?: string }) {
  const digests = await db.cacheLink.groupBy({ by: ["digest"], where, _max: { size: true } });
  return { objects: digests.length, bytes: digests.reduce((total, d) => total + n(d._max.size), 0) };
}

/** The team's cache: stored content now, and traffic over the range. */
async function teamSummary(teamId: string, since: Date) {
  const [stored, usage] = await Promise.all([
    storedContent({ teamId }),
    db.cacheUsage.aggregate({ where: { teamId, hour: { gte: since } }, _sum: USAGE_SUMS }),
  ]);
  return { storedBytes: stored.bytes, objects: stored.objects, ...usageTotals(usage._sum) };
}

/** Per app of the team (every app, also those without traffic), by name. */
async function teamApps(teamId: string, since: Date) {
  const [apps, links, usage] = await Promise.all([
    db.app.findMany({ where: { teamId }, orderBy: { name: "asc" }, select: { id: true, name: true, slug: true } }),
    db.cacheLink.groupBy({ by: ["appId", "digest"], where: { teamId }, _max: { size: true } }),
    db.cacheUsage.groupBy({ by: ["appId"], where: { teamId, hour: { gte: since } }, _sum: USAGE_SUMS }),
  ]);
  const stored = new Map<string, { objects: number; bytes: number }>();
  for (const l of links) {
    const s = stored.get(l.appId) ?? { objects: 0, bytes: 0 };
    s.objects++;
    s.bytes += n(l._max.size);
    stored.set(l.appId, s);
  }
  const traffic = new Map(usage.map((u) => [u.appId, u._sum]));
  return apps.map((app) => ({
    name: app.name,
    slug: app.slug,
    objects: stored.get(app.id)?.objects ?? 0,
    storedBytes: stored.get(app.id)?.bytes ?? 0,
    ...usageTotals(traffic.get(app.id)),
  }));
}

/** Bytes served from cache and from upstream, and GETs, per bucket; empty buckets are zeros. */
async function teamSeries(teamId: string, buckets: Date[], unitMs: number) {
  const since = buckets[0] ?? new Date(0);
  const hours = await db.cacheUsage.groupBy({
    by: ["hour"],
    where: { teamId, hour: { gte: since } },
    _sum: { bytesFromCache: true, bytesFromUpstream: true, hits: true, misses: true },
  });
  const points = buckets.map((start) => ({ start: start.toISOString(), bytesFromCache: 0, bytesFromUpstream: 0, hits: 0, misses: 0 }));
  const index = new Map(buckets.map((b, i) => [b.getTime(), i]));
  for (const h of hours) {
    const point = points[index.get(Math.floor(h.hour.getTime() / unitMs) * unitMs) ?? -1];
    if (!point) continue; // an hour after `now` (clock skew between instances): not on this chart
    point.bytesFromCache += n(h._sum.bytesFromCache);
    point.bytesFromUpstream += n(h._sum.bytesFromUpstream);
    point.hits += n(h._sum.hits);
    point.misses += n(h._sum.misses);
  }
  return points;
}

/**
 * Everything the Cache page shows for one team: totals over the range, per app,
 * and the chart's series. `used` is false until the team's cache has ever
 * stored or counted anything (the page's empty state).
 */
export async function teamCacheStats(teamId: string, options: { range?: CacheRange; now?: Date } = {}) {
  const range = options.range ?? DEFAULT_CACHE_RANGE;
  const buckets = rangeBuckets(range, options.now ?? new Date());
  const since = buckets[0] ?? new Date(0);
  const [summary, apps, series, anyUsage, anyLink] = await Promise.all([
    teamSummary(teamId, since),
    teamApps(teamId, since),
    teamSeries(teamId, buckets, RANGES[range].unitMs),
    db.cacheUsage.findFirst({ where: { teamId }, select: { id: true } }),
    db.cacheLink.findFirst({ where: { teamId }, select: { id: true } }),
  ]);
  return {
    range,
    since: since.toISOString(),
    maxBytes: env().cache.maxBytes,
    used: anyUsage !== null || anyLink !== null,
    summary,
    apps,
    series,
  };
}

export type TeamCacheStats = Awaited<ReturnType<typeof teamCacheStats>>;

/** At most this many files are counted on disk for `cache stats`; the rest is reported as incomplete. */
const DISK_WALK_LIMIT = 1_000_000;

/**
 * The operator's view across every team (`gantry cache stats`): content the
 * database knows of, all-time traffic, and what is actually on disk under the
 * content root (which includes files no link references yet, or any more).
 */
export async function operatorCacheStats(options: { dir?: string; maxBytes?: number; diskLimit?: number } = {}) {
  const dir = options.dir ?? env().cache.dir;
  const [stored, links, tags, teams, usage, disk] = await Promise.all([
    storedContent({}),
    db.cacheLink.count(),
    db.cacheTag.count(),
    db.cacheLink.groupBy({ by: ["teamId"] }),
    db.cacheUsage.aggregate({ _sum: USAGE_SUMS }),
    diskUsage(contentRoot(dir), options.diskLimit ?? DISK_WALK_LIMIT),
  ]);
  return {
    dir,
    maxBytes: options.maxBytes ?? env().cache.maxBytes,
    storedBytes: stored.bytes,
    objects: stored.objects,
    links,
    tags,
    teamsWithContent: teams.length,
    disk,
    usage: usageTotals(usage._sum),
  };
}
