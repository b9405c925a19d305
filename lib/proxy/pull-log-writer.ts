import { db } from "@/lib/db";

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
 * Writes a batch of pull records: one INSERT, or row by row when the batch
 * fails (a license deleted meanwhile fails its row's foreign key) so the
 * rest are kept. Returns how many rows could not be written. Runs in the
 * pull-log worker thread (pull-log-worker.cjs); Prisma's per-row work for a
 * 500-row insert costs the thread ~130 ms, which must not be the proxy's.
 */
export async function writePulls(batch: (PullRecord & { createdAt: Date })[]): Promise<{ failed: number; error?: string }> {
  try {
    await db.pullEvent.createMany({ data: batch });
    return { failed: 0 };
  } catch (e) {
    const results = await Promise.allSettled(batch.map((data) => db.pullEvent.create({ data })));
    return { failed: results.filter((r) => r.status === "rejected").length, error: e instanceof Error ? e.message : String(e) };
  }
}
