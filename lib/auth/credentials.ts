import "server-only";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { recordActivity } from "@/lib/activity/record";
import { burnPasswordCheck, verifyPassword } from "@/lib/auth/password";
import { hit, peek, reset } from "@/lib/rate-limit/fixed-window";

export interface SignedInUser {
  id: string;
  email: string;
  name: string | null;
}

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/**
 * Checks an email and password, rate-limited per account and per client IP.
 * Returns the user, or null for a wrong email or password (the two are not told
 * apart). Throws AppError RATE_LIMITED while either limit is exceeded; only
 * failures count, and a success clears the account's counter.
 */
export async function checkCredentials(emailInput: string, password: string, ip: string | null): Promise<SignedInUser | null> {
  const { maxPerAccount, maxPerIp, windowSeconds } = env().signIn;
  const email = normalizeEmail(emailInput);
  const accountKey = `signin:account:${email}`;
  const ipKey = ip ? `signin:ip:${ip}` : null;

  const states = await Promise.all([
    peek(accountKey, maxPerAccount, windowSeconds),
    ipKey ? peek(ipKey, maxPerIp, windowSeconds) : null,
  ]);
  const limited = states.filter((s) => s?.limited);
  if (limited.length) {
    const retryAfterSeconds = Math.max(...limited.map((s) => s?.retryAfterSeconds ?? 0));
    throw new AppError("RATE_LIMITED", `Too many failed sign-in attempts. Try again later (in about ${Math.ceil(retryAfterSeconds / 60)} min).`, {
      retryAfterSeconds,
    });
  }

  const user = await db.user.findUnique({ where: { email }, omit: { passwordHash: false } });
  const ok = user ? await verifyPassword(user.passwordHash, password) : (await burnPasswordCheck(password), false);
  if (!user || !ok) {
    await Promise.all([hit(accountKey, windowSeconds), ipKey ? hit(ipKey, windowSeconds) : null]);
    return null;
  }
  await reset(accountKey);
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
