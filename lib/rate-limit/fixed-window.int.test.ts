import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { hit, peek, unhit } from "@/lib/rate-limit/fixed-window";

// The counters are one atomic upsert per hit. Replaced by a read followed by a
// write (findUnique then create/update), concurrent hits are lost or collide.
const N = 25;
let n = 0;
const key = () => `race-${Date.now()}-${n++}`;
const at = new Date("2026-11-23T12:00:30Z");

describe("fixed-window counters under concurrency", () => {
  it(`${N} concurrent hits count ${N}, each sees its own place, and the limit admits exactly 'limit'`, async () => {
    const k = key();
    const limit = 10;
    const states = await Promise.all(Array.from({ length: N }, () => hit(k, limit, 60, at)));
    expect(states.map((s) => s.count).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(states.filter((s) => !s.limited)).toHaveLength(limit);
    expect((await peek(k, limit, 60, at)).count).toBe(N);
    expect(await db.rateLimitBucket.count({ where: { key: { startsWith: `${k}@` } } })).toBe(1);
  });

  it(`${N} concurrent hand-backs against ${N} hits never go below zero`, async () => {
    const k = key();
    await Promise.all([...Array.from({ length: N }, () => hit(k, 100, 60, at)), ...Array.from({ length: N + 5 }, () => unhit(k, 60, at))]);
    const { count } = await peek(k, 100, 60, at);
    expect(count).toBeGreaterThanOrEqual(0);
    expect(count).toBeLessThanOrEqual(N);
  });
});
