import "server-only";
import { LookupCache } from "@/lib/lookup-cache";
import { db } from "@/lib/db";
import { processWide } from "@/lib/process-wide";
import { hashLicenseId, isLicenseIdFormat } from "./key";
import { licenseState } from "./state";

export type DenyReason = "unknown_license" | "wrong_app" | "revoked" | "expired";

export type PullDecision =
  | { allow: true; licenseRowId: string; customerId: string; appId: string; teamId: string; pin: LicensePin }
  | { allow: false; reason: DenyReason; message: string };

/** Optional pinning of a license to the app's releases (lib/releases/scope.ts); null: no limit. */
export interface LicensePin {
  maxVersion: string | null;
  releasedBefore: Date | null;
}

export interface LicenseForDecision {
  id: string;
  customerId: string;
  teamId: string;
  appId: string;
  appSlug: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  maxVersion?: string | null;
  releasedBefore?: Date | null;
}

const MESSAGES: Record<DenyReason, string> = {
  unknown_license: "This license is not known. Check the license ID you logged in with, or ask your vendor for your license.",
  wrong_app: "This license is for another application. Log in with the license for this application.",
  revoked: "This license has been revoked. Contact your vendor to restore access.",
  expired: "This license has expired. Contact your vendor to renew it.",
};

/** The rule itself, without I/O: allow, or deny with a reason a customer can act on. */
export function decide(license: LicenseForDecision | null, appSlug: string, now: Date): PullDecision {
  if (!license) return { allow: false, reason: "unknown_license", message: MESSAGES.unknown_license };
  if (license.appSlug !== appSlug) return { allow: false, reason: "wrong_app", message: MESSAGES.wrong_app };
  const state = licenseState(license, now);
  if (state !== "active") return { allow: false, reason: state, message: MESSAGES[state] };
  return {
    allow: true,
    licenseRowId: license.id,
    customerId: license.customerId,
    appId: license.appId,
    teamId: license.teamId,
    pin: { maxVersion: license.maxVersion ?? null, releasedBefore: license.releasedBefore ?? null },
  };
}

/**
 * Whether a license may pull from an app now. One indexed lookup (by the
 * SHA-256 of the license ID), no cache: a revocation or expiry is seen by the
 * very next request on every instance that shares the database.
 */
export async function decidePull(licenseId: string, appSlug: string, now: Date = new Date()): Promise<PullDecision> {
  if (!isLicenseIdFormat(licenseId)) return decide(null, appSlug, now);
  return decidePullByHash(hashLicenseId(licenseId), appSlug, now);
}

/**
 * The license with what every decision needs (its app, state and pin), by the
 * license ID's SHA-256 (what proxy tokens carry instead of the ID): one indexed
 * lookup. Callers that decide for several apps load once and call `decide`.
 */
export async function loadLicenseForDecision(keyHash: string): Promise<LicenseForDecision | null> {
  const row = await db.license.findUnique({
    where: { keyHash },
    select: { id: true, customerId: true, teamId: true, appId: true, expiresAt: true, revokedAt: true, maxVersion: true, releasedBefore: true, app: { select: { slug: true } } },
  });
  if (!row) return null;
  const { app, ...license } = row;
  return { ...license, appSlug: app.slug };
}

/** The same decision from the license ID's SHA-256. */
export async function decidePullByHash(keyHash: string, appSlug: string, now: Date = new Date()): Promise<PullDecision> {
  return decide(await loadLicenseForDecision(keyHash), appSlug, now);
}

/**
 * The registry proxy's view of a license: the same lookup, remembered for at
 * most 500 ms per license in this process (misses too, so a flood of guesses
 * costs one query per 500 ms each). A revocation or expiry is therefore seen
 * within 500 ms on every replica, and at once on the one that made it
 * (`forgetLicenseDecisions`).
 */
export const DECISION_CACHE_MS = 500;
// One cache per process (processWide): a revoke through the portal clears the cache the proxy reads.
// One load in flight per license (lib/lookup-cache.ts); a revoke in this process drops loads begun before it.
const recent = processWide("license-decisions-v2", () => new LookupCache<LicenseForDecision | null>({ max: 20_000, ttlMs: DECISION_CACHE_MS }));

export function loadLicenseForProxy(keyHash: string): Promise<LicenseForDecision | null> {
  return recent.get(keyHash, () => loadLicenseForDecision(keyHash));
}

/** The proxy's decision (see loadLicenseForProxy). */
export async function decideProxyPull(keyHash: string, appSlug: string, now: Date = new Date()): Promise<PullDecision> {
  return decide(await loadLicenseForProxy(keyHash), appSlug, now);
}

/** Called when licenses change in this process (revoke, restore, expiry, pin). */
export function forgetLicenseDecisions(): void {
  recent.clear();
}
