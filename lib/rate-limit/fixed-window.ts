import "server-only";
import { db } from "@/lib/db";

/**
 * Fixed-window counters in the database, so every Gantry instance shares them.
 *
 * Each window has its own row, keyed `<key>@<window index>`, so counting is one
 * atomic upsert (INSERT … ON CONFLICT DO UPDATE SET count = count + 1 on both
 * SQLite and PostgreSQL) with no read before it: N concurrent hits count N, and
 * the count a hit returns tells the caller exactly where it stands. Old windows
 * are left behind and purged by lib/retention/retention.ts.
 *
 * - `peek` tells whether a key is at its limit without counting;
 * - `hit` counts one event and returns the state after it (`limited` once past
 *   the limit; deciding on it means a burst of parallel requests cannot exceed it);
 * - `unhit` hands one back (an attempt counted up front that succeeded);
 * - `reset` clears a key's current window (e.g. after a successful sign-in).
 */
export interface LimitState {
  limited: boolean;
  count: number;
  retryAfterSeconds: number;
}

function window(windowSeconds: number, now: Date) {
  const size = windowSeconds * 1000;
  const index = Math.floor(now.getTime() / size);
  const endsAt = (index + 1) * size;
  return { index, start: new Date(index * size), retryAfterSeconds: Math.max(1, Math.ceil((endsAt - now.getTime()) / 1000)) };
}

const bucketKey = (key: string, index: number) => `${key}@${index}`;

export async function peek(key: string, limit: number, windowSeconds: number, now = new Date()): Promise<LimitState> {
  const w = window(windowSeconds, now);
  const bucket = await db.rateLimitBucket.findUnique({ where: { key: bucketKey(key, w.index) }, select: { count: true } });
  const count = bucket?.count ?? 0;
  return { limited: count >= limit, count, retryAfterSeconds: w.retryAfterSeconds };
}

/** Counts one event; `limited` is true once the count exceeds `limit`. */
export async function hit(key: string, limit: number, windowSeconds: number, now = new Date()): Promise<LimitState> {
  const w = window(windowSeconds, now);
  const k = bucketKey(key, w.index);
  const row = await db.rateLimitBucket.upsert({
    where: { key: k },
    create: { key: k, windowStart: w.start, count: 1 },
    update: { count: { increment: 1 } },
    select: { count: true },
  });
  return { limited: row.count > limit, count: row.count, retryAfterSeconds: w.retryAfterSeconds };
}

/** Hands back one counted event (a reserved attempt that turned out fine). */
export async function unhit(key: string, windowSeconds: number, now = new Date()): Promise<void> {
  await db.rateLimitBucket.updateMany({ where: { key: bucketKey(key, window(windowSeconds, now).index), count: { gt: 0 } }, data: { count: { decrement: 1 } } });
}

export async function reset(key: string, windowSeconds: number, now = new Date()): Promise<void> {
  await db.rateLimitBucket.deleteMany({ where: { key: bucketKey(key, window(windowSeconds, now).index) } });
}
