import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrismaClient } from "@/generated/prisma/client";
import { PrismaClient as PgPrismaClient } from "@/generated/prisma-pg/client";
import { db, type Db } from "@/lib/db";
import { isPostgresUrl } from "@/lib/db-provider";
import { asExternalWriter } from "@/lib/db-write-turn";
import { env } from "@/lib/env";

/**
 * The serving thread's connection and another connection writing a batch (the
 * pull-log writer thread's, played here by a second client on the same
 * database that holds its transaction open for a while). On SQLite that batch
 * holds the write lock: a write of the serving thread that meets it must wait
 * for it on the event loop — timers keep firing, requests keep being served —
 * not asleep in SQLite's busy handler with the loop stopped. On PostgreSQL
 * nothing waits at all (different rows; its driver waits off the loop).
 * (Here both connections share this thread: without the turn, the write would
 * sleep in the busy handler for a lock that only this stopped loop can release,
 * and fail after SQLite's busy timeout.)
 */
const postgres = isPostgresUrl(env().databaseUrl);
const tag = `turn-${Date.now().toString(36)}`;
const windowStart = new Date();
/** How long the other connection holds its batch open, and the longest loop pause allowed meanwhile (a loaded machine pauses now and then; a blocked loop pauses ~HOLD_MS). */
const HOLD_MS = 1_500;
const MAX_PAUSE_MS = 600;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const other: Db = postgres
  ? (new PgPrismaClient({ adapter: new PrismaPg({ connectionString: env().databaseUrl }) }) as unknown as Db)
  : (new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: env().databaseUrl, timeout: 10_000 }) }) as unknown as Db);

beforeAll(async () => {
  // The first query of a client compiles and loads what it needs: not part of what is measured.
  await db.rateLimitBucket.count();
  await other.rateLimitBucket.count();
});

afterAll(async () => {
  await db.rateLimitBucket.deleteMany({ where: { key: { startsWith: tag } } });
  await other.$disconnect();
});

/** The longest the event loop went without turning while `work` ran (a 5 ms timer's gaps), and how long it took. */
async function loopGap<T>(work: () => Promise<T>): Promise<{ value: T; maxGapMs: number; ms: number }> {
  const started = performance.now();
  let last = started;
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 5);
  try {
    const value = await work();
    const now = performance.now();
    return { value, maxGapMs: Math.max(maxGapMs, now - last), ms: now - started };
  } finally {
    clearInterval(timer);
  }
}

/** The other connection writes a row and keeps its transaction open for `holdMs`, announced as a batch. */
function batch(key: string, holdMs: number) {
  let locked!: () => void;
  const lockTaken = new Promise<void>((r) => (locked = r));
  let committedAt = 0;
  const done = asExternalWriter(() =>
    other.$transaction(
      async (tx) => {
        await tx.rateLimitBucket.create({ data: { key, windowStart, count: 1 } });
        locked();
        await sleep(holdMs);
      },
      { timeout: 10_000 },
    ),
  ).then(() => void (committedAt = performance.now()));
  return { lockTaken, done, committedAt: () => committedAt };
}

describe("this thread's writes and another connection's batch", () => {
  it("a write that meets the batch does not stop the event loop", async () => {
    const b = batch(`${tag}-batch-1`, HOLD_MS);
    await b.lockTaken;
    const { maxGapMs, ms } = await loopGap(() => db.rateLimitBucket.create({ data: { key: `${tag}-serving-1`, windowStart, count: 1 } }));
    await b.done;
    console.log(`[write-turn] a write during a ${HOLD_MS} ms batch (${postgres ? "PostgreSQL" : "SQLite"}): done after ${ms.toFixed(0)} ms, the loop's longest pause ${maxGapMs.toFixed(0)} ms`);
    // Asleep in SQLite's busy handler the loop stops until the batch commits (~HOLD_MS).
    expect(maxGapMs).toBeLessThan(MAX_PAUSE_MS);
    if (!postgres) expect(ms).toBeGreaterThan(HOLD_MS / 2); // it did wait for the batch: SQLite has one writer
    expect(await db.rateLimitBucket.count({ where: { key: { in: [`${tag}-batch-1`, `${tag}-serving-1`] } } })).toBe(2);
  });

  it("a transaction begun meanwhile waits for the batch, the next batch waits for the transaction, and the transaction's own writes do not wait", async () => {
    const b = batch(`${tag}-batch-2`, HOLD_MS);
    await b.lockTaken;
    let nextBatchRanAt = 0;
    let committedAt = 0;
    const { maxGapMs } = await loopGap(() =>
      db.$transaction(async (tx) => {
        await tx.rateLimitBucket.create({ data: { key: `${tag}-tx-1`, windowStart, count: 1 } });
        void asExternalWriter(async () => void (nextBatchRanAt = performance.now()));
        await sleep(100);
        // A write of this transaction does not wait for the batch announced above (that one waits for this transaction).
        await tx.rateLimitBucket.create({ data: { key: `${tag}-tx-2`, windowStart, count: 1 } });
        committedAt = performance.now();
      }),
    );
    await b.done;
    await sleep(20);
    expect(maxGapMs).toBeLessThan(MAX_PAUSE_MS);
    expect(nextBatchRanAt).toBeGreaterThan(0);
    if (postgres) {
      expect(nextBatchRanAt).toBeLessThan(committedAt); // nothing waits
    } else {
      expect(b.committedAt()).toBeLessThanOrEqual(committedAt);
      expect(nextBatchRanAt).toBeGreaterThanOrEqual(committedAt);
    }
    expect(await db.rateLimitBucket.count({ where: { key: { in: [`${tag}-tx-1`, `${tag}-tx-2`] } } })).toBe(2);
  });

  it("writes that waited for a batch go before the next one, so back-to-back batches cannot starve them", async () => {
    const first = batch(`${tag}-batch-3`, 200);
    await first.lockTaken;
    const key = `${tag}-serving-3`;
    const write = db.rateLimitBucket.create({ data: { key, windowStart, count: 1 } });
    // The next batch, announced after the write: when it runs, is the write in the database already?
    const next = asExternalWriter(() => db.rateLimitBucket.count({ where: { key } }));
    const [, , seenByNextBatch] = await Promise.all([first.done, write, next]);
    if (!postgres) expect(seenByNextBatch).toBe(1);
    expect(await db.rateLimitBucket.count({ where: { key } })).toBe(1);
  });
});
