import type { LicenseState } from "./types";

/** The state is derived, never stored: revoked wins over expired. */
export function licenseState(l: { revokedAt: Date | null; expiresAt: Date | null }, now: Date = new Date()): LicenseState {
  if (l.revokedAt && l.revokedAt.getTime() <= now.getTime()) return "revoked";
  if (l.expiresAt && l.expiresAt.getTime() <= now.getTime()) return "expired";
  return "active";
}

/** Whole days until expiry (0 on the last day), or null without an expiry. */
export function daysLeft(expiresAt: Date | null, now: Date = new Date()): number | null {
  if (!expiresAt) return null;
  return Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 86_400_000));
}

/** Prisma `where` fragments selecting each state at `now` (for list filters). */
export function stateWhere(state: LicenseState, now: Date = new Date()) {
  switch (state) {
    case "revoked":
      return { revokedAt: { not: null } };
    case "expired":
      return { revokedAt: null, expiresAt: { lte: now } };
    case "active":
      return { revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
  }
}
