import path from "node:path";
import { Worker } from "node:worker_threads";
import { asExternalWriter } from "@/lib/db-write-turn";
import { log } from "@/lib/log";

import type { PullRecord } from "./pull-log-writer";

export type { PullRecord };

/**
 * Pull records are appended in batches: one INSERT of up to 500 rows a second,
 * written by a worker thread with its own connection (pull-log-worker.cjs):
 * Prisma spends ~0.25 ms of CPU per row, and at thousands of requests a
 * second that would stall the proxy's event loop for 100+ ms per batch. A
 * failure is logged, never thrown; if the database stays away, at most
 * MAX_PENDING records wait and the excess is counted and dropped rather than
 * held in memory. Without a worker (it failed to start) batches are written
 * on this thread.
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
    const { failed, error } = await write(batch);
    if (failed) log.error("could not record pulls", { failed, error });
  }
}

type Reply = { id: number; failed: number; error?: string };
const WORKER = path.join(process.cwd(), "lib", "proxy", "pull-log-worker.cjs");
let worker: Worker | null | undefined;
let nextId = 0;
const waiting = new Map<number, (r: Reply) => void>();

function writer(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    // Loaded from disk at run time (it loads the writer through tsx), constructed
    // indirectly so a bundler does not rewrite it as a bundled worker.
    const w: Worker = Reflect.construct(Worker, [WORKER]);
    w.unref();
    w.on("message", (r: Reply) => {
      waiting.get(r.id)?.(r);
      waiting.delete(r.id);
    });
    w.on("error", (e) => {
      log.error("the pull-log writer thread failed; writing on the main thread", { error: e });
      worker = null;
      for (const [id, resolve] of waiting) resolve({ id, failed: 0, error: "retry" });
    });
    worker = w;
  } catch (e) {
    log.error("could not start the pull-log writer thread; writing on the main thread", { error: e });
    worker = null;
  }
  return worker;
}

async function write(batch: (PullRecord & { createdAt: Date })[]): Promise<{ failed: number; error?: string }> {
  const w = writer();
  if (w) {
    const id = nextId++;
    // The thread holds SQLite's write lock for the batch: this thread's writes wait their turn (lib/db-write-turn.ts).
    const reply = await asExternalWriter(() =>
      new Promise<Reply>((resolve) => {
        waiting.set(id, resolve);
        w.ref(); // pending writes keep the process alive until written
        w.postMessage({ id, batch });
      }),
    ).finally(() => {
      if (waiting.size === 0) w.unref();
    });
    if (reply.error !== "retry") return reply;
  }
  const { writePulls } = await import("./pull-log-writer");
  return writePulls(batch);
}
