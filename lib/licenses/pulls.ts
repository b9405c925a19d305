import "server-only";
import { db } from "@/lib/db";

const PULL_FIELDS = {
  id: true,
  repository: true,
  kind: true,
  reference: true,
  method: true,
  status: true,
  bytesSent: true,
  durationMs: true,
  clientIp: true,
  userAgent: true,
  createdAt: true,
} as const;

/**
 * bytesSent is a BigInt column (a layer can exceed 2^31 bytes) but leaves this
 * module as a number: JSON.stringify and React server-component props cannot
 * carry a bigint, and a number is exact up to 2^53 bytes (8 PiB).
 */
function withNumberBytes<T extends { bytesSent: bigint }>(row: T): Omit<T, "bytesSent"> & { bytesSent: number } {
  return { ...row, bytesSent: Number(row.bytesSent) };
}

/** A license's most recent proxy requests, newest first (indexed on licenseId, createdAt). */
export async function listLicensePulls(teamId: string, licenseRowId: string, take = 20) {
  const rows = await db.pullEvent.findMany({ where: { teamId, licenseId: licenseRowId }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: Math.min(take, 200), select: PULL_FIELDS });
  return rows.map(withNumberBytes);
}

/** A team's most recent pulls with the customer, for the Activity page's pulls view. */
export async function listTeamPulls(teamId: string, take = 50) {
  const rows = await db.pullEvent.findMany({
    where: { teamId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take,
    select: { ...PULL_FIELDS, license: { select: { customer: { select: { id: true, name: true } }, app: { select: { slug: true } } } } },
  });
  return rows.map(withNumberBytes);
}
