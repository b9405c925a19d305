import { db } from "@/lib/db";
import { log } from "@/lib/log";

export interface PullRecord {
  teamId: string;
  appId: string;
  licenseId: string;
  repository: string;
  kind: string;
  reference: string;
  method: string;
  status: number;
  bytesSent: number;
  durationMs: number;
  clientIp: string | null;
  userAgent: string | null;
}

/**
 * Pull records are appended in batches: one INSERT of up to 500 rows a second,
 * off the streaming path. A failure is logged, never thrown; if the database
 * stays away, at most MAX_PENDING records wait and the excess is counted and
 * dropped rather than held in memory.
 */
const FLUSH_EVERY_MS = 1_000;
const BATCH = 500;
const MAX_PENDING = 20_000;

const pending: (PullRecord & { createdAt: Date })[] = [];
let dropped = 0;
let timer: NodeJS.Timeout | null = null;
let flushing: Promise<void> = Promise.resolve();

export function recordPull(record: PullRecord): void {
  if (pending.length >= MAX_PENDING) {
    dropped++;
    return;
  }
  pending.push({ ...record, userAgent: record.userAgent?.slice(0, 300) ?? null, createdAt: new Date() });
  if (pending.length >= BATCH) void flushPulls();
  else timer ??= setTimeout(() => void flushPulls(), FLUSH_EVERY_MS).unref();
}

/** Writes every pending record (the timer does this; tests and shutdown call it). */
export function flushPulls(): Promise<void> {
  flushing = flushing.then(writePending, writePending);
  return flushing;
}

async function writePending(): Promise<void> {
  if (timer) clearTimeout(timer);
  timer = null;
  if (dropped) {
    log.error("pull records dropped: the database did not keep up", { dropped });
    dropped = 0;
  }
  while (pending.length) {
    const batch = pending.splice(0, BATCH);
    try {
      await db.pullEvent.createMany({ data: batch });
    } catch (e) {
      // A license deleted meanwhile fails its row's foreign key: retry the batch row by row, keep the rest.
      const results = await Promise.allSettled(batch.map((data) => db.pullEvent.create({ data })));
      const failed = results.filter((r) => r.status === "rejected").length;
      if (failed) log.error("could not record pulls", { failed, error: e instanceof Error ? e.message : String(e) });
    }
  }
}
