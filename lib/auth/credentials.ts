import "server-only";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { recordActivity } from "@/lib/activity/record";
import { burnPasswordCheck, verifyPassword } from "@/lib/auth/password";
import { clientKey } from "@/lib/net/client-ip";
import { hit, reset, unhit } from "@/lib/rate-limit/fixed-window";

export interface SignedInUser {
  id: string;
  email: string;
  name: string | null;
}

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/**
 * Checks an email and password, rate-limited per (account, client address) and
 * per client address. There is deliberately no global per-account limit: it
 * would let a stranger lock a vendor out of their own account from anywhere.
 * Returns the user, or null for a wrong email or password (the two are not told
 * apart). Throws AppError RATE_LIMITED while either limit is exceeded; only
 * failures count, and a success clears its (account, address) counter. The
 * limits are shared with Gantry's own registry, where the same email and
 * password log in (lib/hosted-registry/access.ts).
 */
export async function checkCredentials(emailInput: string, password: string, ip: string | null, opts: { recordSignIn?: boolean } = {}): Promise<SignedInUser | null> {
  const { maxPerAccount, maxPerIp, windowSeconds } = env().signIn;
  const email = normalizeEmail(emailInput);
  const client = clientKey(ip) ?? "unknown";
  const accountKey = `signin:account-ip:${email}|${client}`;
  const ipKey = `signin:ip:${client}`;

  // Each attempt is counted before the password is checked, in one atomic
  // upsert, so a burst of parallel guesses cannot get past the limit; a success
  // hands its attempt back.
  const [perAccount, perIp] = await Promise.all([hit(accountKey, maxPerAccount, windowSeconds), hit(ipKey, maxPerIp, windowSeconds)]);
  const limited = [perAccount, perIp].filter((s) => s.limited);
  if (limited.length) {
    const retryAfterSeconds = Math.max(...limited.map((s) => s.retryAfterSeconds));
    throw new AppError("RATE_LIMITED", `Too many failed sign-in attempts. Try again later (in about ${Math.ceil(retryAfterSeconds / 60)} min).`, {
      retryAfterSeconds,
    });
  }

  const user = await db.user.findUnique({ where: { email }, omit: { passwordHash: false } });
  const ok = user ? await verifyPassword(user.passwordHash, password) : (await burnPasswordCheck(password), false);
  if (!user || !ok) return null;
  await Promise.all([reset(accountKey, windowSeconds), unhit(ipKey, windowSeconds)]);
  // A registry login (docker login, every token request of a push) is not a portal sign-in.
  if (opts.recordSignIn === false) return { id: user.id, email: user.email, name: user.name };
  const memberships = await db.membership.findMany({ where: { userId: user.id }, select: { teamId: true } });
  for (const m of memberships) {
    await recordActivity(db, {
      teamId: m.teamId,
      actor: { type: "user", id: user.id, label: user.email },
      action: "user.signed_in",
      resourceType: "user",
      resourceId: user.id,
      ip,
    });
  }
  return { id: user.id, email: user.email, name: user.name };
}
