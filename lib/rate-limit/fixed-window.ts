import "server-only";
import { db } from "@/lib/db";

/**
 * Fixed-window counters in the database, so every Gantry instance shares them.
 * `peek` tells whether a key is over its limit without counting; `hit` counts
 * one attempt; `reset` clears a key (e.g. after a successful sign-in).
 */
export interface LimitState {
  limited: boolean;
  retryAfterSeconds: number;
}

export async function peek(key: string, limit: number, windowSeconds: number, now = new Date()): Promise<LimitState> {
  const bucket = await db.rateLimitBucket.findUnique({ where: { key } });
  if (!bucket) return { limited: false, retryAfterSeconds: 0 };
  const endsAt = bucket.windowStart.getTime() + windowSeconds * 1000;
  if (endsAt <= now.getTime()) return { limited: false, retryAfterSeconds: 0 };
  return { limited: bucket.count >= limit, retryAfterSeconds: Math.ceil((endsAt - now.getTime()) / 1000) };
}

export async function hit(key: string, windowSeconds: number, now = new Date()): Promise<number> {
  const bucket = await db.rateLimitBucket.findUnique({ where: { key } });
  if (!bucket || bucket.windowStart.getTime() + windowSeconds * 1000 <= now.getTime()) {
    await db.rateLimitBucket.upsert({
      where: { key },
      create: { key, windowStart: now, count: 1 },
      update: { windowStart: now, count: 1 },
    });
    return 1;
  }
  const updated = await db.rateLimitBucket.update({ where: { key }, data: { count: { increment: 1 } } });
  return updated.count;
}

export async function reset(key: string): Promise<void> {
  await db.rateLimitBucket.deleteMany({ where: { key } });
}
