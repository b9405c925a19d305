import "server-only";
import { db } from "@/lib/db";
import { rewrap } from "@/lib/crypto/envelope";
import type { KekProvider } from "@/lib/crypto/kek";
import { kekProvider } from "@/lib/crypto/provider";
import { SEALED_FIELDS, toSealed } from "./store";

export interface RotationReport {
  currentKekId: string;
  rewrapped: number;
  alreadyCurrent: number;
  failed: { id: string; kekId: string; error: string }[];
}

/**
 * Re-wraps every data key under the current KEK. Payloads are never
 * re-encrypted, so no secret can be lost: each row is updated on its own, and
 * only if it still has the wrapped key that was read (a compare-and-swap on
 * kekId + wrappedDek). Safe to run twice, concurrently, or again after a crash:
 * rows already under the current KEK are skipped.
 */
export async function rotateKek(options: { batchSize?: number; kek?: KekProvider } = {}): Promise<RotationReport> {
  const kek = options.kek ?? kekProvider();
  const batchSize = options.batchSize ?? 100;
  const report: RotationReport = { currentKekId: kek.currentKekId, rewrapped: 0, alreadyCurrent: 0, failed: [] };
  report.alreadyCurrent = await db.encryptedSecret.count({ where: { kekId: kek.currentKekId } });
  const skip = new Set<string>();
  for (;;) {
    const rows = await db.encryptedSecret.findMany({
      where: { kekId: { not: kek.currentKekId }, id: { notIn: [...skip] } },
      select: { id: true, ...SEALED_FIELDS },
      orderBy: { id: "asc" },
      take: batchSize,
    });
    if (rows.length === 0) break;
    for (const row of rows) {
      try {
        const next = await rewrap(toSealed(row), kek);
        const { count } = await db.encryptedSecret.updateMany({
          where: { id: row.id, kekId: row.kekId, wrappedDek: row.wrappedDek },
          data: { wrappedDek: new Uint8Array(next.wrappedDek), kekId: next.kekId },
        });
        if (count === 1) report.rewrapped++;
      } catch (e) {
        skip.add(row.id);
        report.failed.push({ id: row.id, kekId: row.kekId, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  return report;
}
