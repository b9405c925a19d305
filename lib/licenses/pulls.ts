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

/** A license's most recent proxy requests, newest first (indexed on licenseId, createdAt). */
export function listLicensePulls(teamId: string, licenseRowId: string, take = 20) {
  return db.pullEvent.findMany({ where: { teamId, licenseId: licenseRowId }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: Math.min(take, 200), select: PULL_FIELDS });
}

/** A team's most recent pulls with the customer, for the Activity page's pulls view. */
export function listTeamPulls(teamId: string, take = 50) {
  return db.pullEvent.findMany({
    where: { teamId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take,
    select: { ...PULL_FIELDS, license: { select: { customer: { select: { id: true, name: true } }, app: { select: { slug: true } } } } },
  });
}
