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
 * failure is logged, never thrown. Without a worker (it failed to start)
 * batches are written on this thread.
 *
 * If the database does not keep up, at most MAX_PENDING records wait and the
 * excess is dropped rather than held in memory. The queue is shared fairly:
 * each team has its own sub-queue, a full queue makes room for a team below
 * its share by dropping the newest record of the longest sub-queue, and
 * batches take from every team in turn. So one tenant's flood drops its own
 * records, not another team's. Drops are counted per team and logged.
 */
const FLUSH_EVERY_MS = 1_000;
const BATCH = 500;
const MAX_PENDING = 20_000;
/** How many teams the drop log names (the ones that lost the most); the rest are summed. */
const LOGGED_TEAMS = 10;

type Pending = PullRecord & { createdAt: Date };
/** Per team, oldest first; a team leaves the map when its queue empties. */
const queues = new Map<string, Pending[]>();
let pendingCount = 0;
const dropped = new Map<string, number>();
let timer: NodeJS.Timeout | null = null;
let flushing: Promise<void> = Promise.resolve();

export function recordPull(record: PullRecord): void {
  const own = queues.get(record.teamId);
  if (pendingCount >= MAX_PENDING && !makeRoomFor(own?.length ?? 0)) {
    drop(record.teamId);
    return;
  }
  const entry = { ...record, userAgent: record.userAgent?.slice(0, 300) ?? null, createdAt: new Date() };
  if (own) own.push(entry);
  else queues.set(record.teamId, [entry]);
  pendingCount++;
  if (pendingCount >= BATCH) void flushPulls();
  else timer ??= setTimeout(() => void flushPulls(), FLUSH_EVERY_MS).unref();
}

/**
 * The queue is full: a team holding less than the average share gets the place
 * of the newest record of the longest sub-queue (dropped), if that one is
 * longer than its own by more than one. A team at or above the average is
 * refused without looking further, so a flood costs O(1) per record.
 */
function makeRoomFor(ownLength: number): boolean {
  if (ownLength >= pendingCount / queues.size) return false;
  let longest: [string, Pending[]] | null = null;
  for (const entry of queues) if (!longest || entry[1].length > longest[1].length) longest = entry;
  if (!longest || longest[1].length <= ownLength + 1) return false;
  longest[1].pop();
  pendingCount--;
  drop(longest[0]);
  return true;
}

function drop(teamId: string): void {
  dropped.set(teamId, (dropped.get(teamId) ?? 0) + 1);
}

/** Up to BATCH records, taken from every team in turn (an equal share each, then what is left). */
function takeBatch(): Pending[] {
  const batch: Pending[] = [];
  while (batch.length < BATCH && queues.size) {
    const share = Math.max(1, Math.floor((BATCH - batch.length) / queues.size));
    for (const [teamId, queue] of [...queues]) {
      if (batch.length >= BATCH) break;
      batch.push(...queue.splice(0, Math.min(share, BATCH - batch.length)));
      // To the back of the round: with more teams than a batch has rows, the next batch starts with the others.
      queues.delete(teamId);
      if (queue.length) queues.set(teamId, queue);
    }
  }
  pendingCount -= batch.length;
  return batch;
}

/** Writes every pending record (the timer does this; tests and shutdown call it). */
export function flushPulls(): Promise<void> {
  flushing = flushing.then(writePending, writePending);
  return flushing;
}

function logDrops(): void {
  if (!dropped.size) return;
  const byTeam = [...dropped].sort((a, b) => b[1] - a[1]);
  const total = byTeam.reduce((sum, [, n]) => sum + n, 0);
  const named = Object.fromEntries(byTeam.slice(0, LOGGED_TEAMS));
  const others = total - Object.values(named).reduce((sum, n) => sum + n, 0);
  dropped.clear();
  log.error("pull records dropped: the database did not keep up (per team: a full queue drops the records of the teams that hold the most of it)", {
    dropped: total,
    byTeam: named,
    ...(others ? { otherTeams: others } : {}),
  });
}

async function writePending(): Promise<void> {
  if (timer) clearTimeout(timer);
  timer = null;
  logDrops();
  while (pendingCount) {
    const batch = takeBatch();
    const { failed, error } = await write(batch);
    if (failed) log.error("could not record pulls", { failed, error });
  }
  logDrops(); // those refused while this flush ran
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

async function write(batch: Pending[]): Promise<{ failed: number; error?: string }> {
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
