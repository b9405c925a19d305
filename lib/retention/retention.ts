import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { storageForMaintenance } from "@/lib/hosted-registry/maintenance";
import { purgeAbandonedUploads } from "@/lib/hosted-registry/upload-sessions";
import { log } from "@/lib/log";

/**
 * Data retention: what is deleted once it has aged out, in one place. Run
 * hourly by the server (lib/server/main.ts) and on demand by
 * `npm run gantry -- purge`.
 *
 * - pull events older than GANTRY_PULL_LOG_DAYS (default 90), by createdAt
 *   (PullEvent_createdAt_idx);
 * - rate-limit buckets not touched for a day (the longest window in use is a
 *   day; updatedAt ≥ windowStart, so such a window has ended), by updatedAt
 *   (RateLimitBucket_updatedAt_idx);
 * - pending invitations that expired more than GANTRY_PULL_LOG_DAYS ago (an
 *   expired one stays listed, marked expired, for that long), by
 *   (status, expiresAt) (Invitation_status_expiresAt_idx).
 * - upload sessions of Gantry's own registry without data for an hour: each
 *   is cancelled in distribution and its row deleted
 *   (lib/hosted-registry/upload-sessions.ts purgeAbandonedUploads; a row is
 *   claimed by a conditional delete, so each is cancelled once).
 *
 * Safe on several replicas at once: every step is "select up to BATCH ids
 * older than a date, delete those ids", so two purges racing delete each row
 * once between them and neither fails. Bounded: one statement touches at most
 * BATCH rows, and the purge yields between batches, so a large backlog (the
 * first purge after an upgrade) never holds SQLite's write lock for long.
 * Plain Prisma queries: the same on SQLite and PostgreSQL.
 */
const PURGE_BATCH = 1_000;
const DAY_MS = 24 * 3600 * 1000;
const BUCKET_MAX_AGE_MS = DAY_MS;

export interface RetentionReport {
  pullEvents: number;
  rateLimitBuckets: number;
  invitations: number;
  /** Abandoned upload sessions of Gantry's own registry, cancelled. */
  registryUploads: number;
  /** Pull events created before this were deleted. */
  pullsBefore: string;
  ms: number;
}

export interface RetentionOptions {
  now?: Date;
  /** Overrides GANTRY_PULL_LOG_DAYS. */
  pullLogDays?: number;
  batch?: number;
  /** Pause between batches, letting other writers in (ms). */
  pauseMs?: number;
  /** Overrides the hour after which an upload session without data is abandoned. */
  uploadIdleMs?: number;
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Repeats one bounded delete until it deletes less than a full batch. */
async function drain(step: () => Promise<{ selected: number; deleted: number }>, batch: number, pauseMs: number): Promise<number> {
  let total = 0;
  for (;;) {
    const { selected, deleted } = await step();
    total += deleted;
    if (selected < batch) return total;
    await pause(pauseMs);
  }
}

export async function purgeExpired(opts: RetentionOptions = {}): Promise<RetentionReport> {
  const started = performance.now();
  const now = opts.now ?? new Date();
  const days = opts.pullLogDays ?? env().pullLogDays;
  const batch = opts.batch ?? PURGE_BATCH;
  const pauseMs = opts.pauseMs ?? 10;
  const pullsBefore = new Date(now.getTime() - days * DAY_MS);
  const bucketsBefore = new Date(now.getTime() - BUCKET_MAX_AGE_MS);

  const pullEvents = await drain(async () => {
    const rows = await db.pullEvent.findMany({ where: { createdAt: { lt: pullsBefore } }, select: { id: true }, orderBy: { createdAt: "asc" }, take: batch });
    if (!rows.length) return { selected: 0, deleted: 0 };
    const { count } = await db.pullEvent.deleteMany({ where: { id: { in: rows.map((r) => r.id) }, createdAt: { lt: pullsBefore } } });
    return { selected: rows.length, deleted: count };
  }, batch, pauseMs);

  const rateLimitBuckets = await drain(async () => {
    const rows = await db.rateLimitBucket.findMany({ where: { updatedAt: { lt: bucketsBefore } }, select: { key: true }, orderBy: { updatedAt: "asc" }, take: batch });
    if (!rows.length) return { selected: 0, deleted: 0 };
    // updatedAt again: a bucket hit meanwhile (it cannot be, its window has ended, but) is kept.
    const { count } = await db.rateLimitBucket.deleteMany({ where: { key: { in: rows.map((r) => r.key) }, updatedAt: { lt: bucketsBefore } } });
    return { selected: rows.length, deleted: count };
  }, batch, pauseMs);

  const invitations = await drain(async () => {
    const where = { status: "pending", expiresAt: { lt: pullsBefore } };
    const rows = await db.invitation.findMany({ where, select: { id: true }, orderBy: { expiresAt: "asc" }, take: batch });
    if (!rows.length) return { selected: 0, deleted: 0 };
    const { count } = await db.invitation.deleteMany({ where: { ...where, id: { in: rows.map((r) => r.id) } } });
    return { selected: rows.length, deleted: count };
  }, batch, pauseMs);

  const registryUploads = await purgeAbandonedUploads({ now, idleMs: opts.uploadIdleMs, batch, backend: storageForMaintenance });

  return { pullEvents, rateLimitBuckets, invitations, registryUploads, pullsBefore: pullsBefore.toISOString(), ms: Math.round(performance.now() - started) };
}

/**
 * Runs purgeExpired every `everyMs` (default hourly) and once shortly after
 * start; a run still going when the next is due is not doubled. Returns a stop
 * function. Failures are logged, never thrown.
 */
export function startRetentionTimer(everyMs = 3600_000, firstAfterMs = 60_000): () => void {
  let running = false;
  const run = () => {
    if (running) return;
    running = true;
    purgeExpired()
      .then((r) => {
        if (r.pullEvents || r.rateLimitBuckets || r.invitations || r.registryUploads) log.info("retention purge", { ...r });
      })
      .catch((e: unknown) => log.error("retention purge failed", { error: e }))
      .finally(() => {
        running = false;
      });
  };
  const first = setTimeout(run, firstAfterMs).unref();
  const every = setInterval(run, everyMs).unref();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
