import "server-only";
import crypto from "node:crypto";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { hashLicenseId, isLicenseIdFormat } from "@/lib/licenses/key";
import { clientKey } from "@/lib/net/client-ip";
import { hit, peek } from "@/lib/rate-limit/fixed-window";

/**
 * The customer's sign-in to the install page: their license ID, nothing else
 * (no account). A sign-in checks the ID once and sets a cookie naming the
 * license's row (never the ID), signed with the server's secret; every request
 * then reads the license again, so a revoke or an expiry shows at once and a
 * vendor turning the page off signs everyone out of it.
 *
 * Failed sign-ins count per client address, as the registry counts failed
 * logins (20 per 5 minutes), so the page is no faster an oracle for license
 * IDs than the registry itself.
 */
export const INSTALL_COOKIE = "gantry_install";
export const SESSION_SECONDS = 12 * 60 * 60;
const FAILURE_LIMIT = 20;
const FAILURE_WINDOW_SECONDS = 300;

export type SignInResult =
  | { ok: true; cookie: string }
  | { ok: false; reason: "invalid" | "unknown" | "rate_limited" | "page_off"; message: string; retryAfterSeconds?: number };

const MESSAGES = {
  invalid: "That is not a license ID: it looks like the one in your license file or pull secret (letters and digits).",
  unknown: "This license ID is not known. Check it against your license file, or ask your vendor.",
  page_off: "Your vendor has not turned on the install page for this application. Ask them for your installer files.",
} as const;

function mac(payload: string): string {
  return crypto.createHmac("sha256", env().authSecret).update(`gantry-install-v1\u0000${payload}`).digest("base64url");
}

/** The cookie's value for a license row: "<row id>.<issued at (s)>.<mac>". */
export function sessionCookieValue(licenseRowId: string, now = new Date()): string {
  const payload = `${licenseRowId}.${Math.floor(now.getTime() / 1000)}`;
  return `${payload}.${mac(payload)}`;
}

/** The license row a cookie names, if its signature holds and it is under SESSION_SECONDS old. */
export function readSessionCookie(value: string | undefined, now = new Date()): string | null {
  if (!value || value.length > 200) return null;
  const parts = value.split(".");
  if (parts.length !== 3) return null;
  const [id = "", issued = "", sig = ""] = parts;
  const expected = mac(`${id}.${issued}`);
  if (sig.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(expected))) return null;
  const age = now.getTime() / 1000 - Number(issued);
  if (!Number.isFinite(age) || age < -60 || age > SESSION_SECONDS) return null;
  return id;
}

const failureKey = (ip: string | null) => `install-signin:ip:${clientKey(ip) ?? "unknown"}`;

/** Checks a license ID typed on the install page. */
export async function signInWithLicense(licenseIdInput: string, ip: string | null): Promise<SignInResult> {
  const limited = await peek(failureKey(ip), FAILURE_LIMIT, FAILURE_WINDOW_SECONDS);
  if (limited.limited) return tooMany(limited.retryAfterSeconds);
  const licenseId = licenseIdInput.trim();
  const fail = async (reason: "invalid" | "unknown"): Promise<SignInResult> => {
    const state = await hit(failureKey(ip), FAILURE_LIMIT, FAILURE_WINDOW_SECONDS);
    return state.limited ? tooMany(state.retryAfterSeconds) : { ok: false, reason, message: MESSAGES[reason] };
  };
  if (!isLicenseIdFormat(licenseId)) return fail("invalid");
  const license = await db.license.findUnique({ where: { keyHash: hashLicenseId(licenseId) }, select: { id: true, app: { select: { installPage: true } } } });
  if (!license) return fail("unknown");
  if (!license.app.installPage) return { ok: false, reason: "page_off", message: MESSAGES.page_off };
  return { ok: true, cookie: sessionCookieValue(license.id) };
}

function tooMany(seconds: number): SignInResult {
  return { ok: false, reason: "rate_limited", message: `Too many failed sign-ins from your address. Try again in ${Math.ceil(seconds / 60)} min.`, retryAfterSeconds: seconds };
}

export interface InstallSession {
  licenseRowId: string;
  teamId: string;
  appId: string;
}

/** The session a cookie holds now: null when there is none, it is forged or old, the license is gone, or its app turned the page off. */
export async function installSession(cookie: string | undefined): Promise<InstallSession | null> {
  const id = readSessionCookie(cookie);
  if (!id) return null;
  const license = await db.license.findUnique({ where: { id }, select: { id: true, teamId: true, appId: true, app: { select: { installPage: true } } } });
  if (!license || !license.app.installPage) return null;
  return { licenseRowId: license.id, teamId: license.teamId, appId: license.appId };
}
