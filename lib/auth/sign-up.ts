import "server-only";
import { z } from "zod";
import { db } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { recordActivity } from "@/lib/activity/record";
import { hashPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "@/lib/auth/password";
import { normalizeEmail } from "@/lib/auth/credentials";
import { createTeamInTx } from "@/lib/teams/create-team";
import { env } from "@/lib/env";
import { enforceLimit, ipKey } from "@/lib/rate-limit/limits";
import { isUniqueViolation } from "@/lib/transactions";

export const teamNameSchema = z.string().trim().min(2, "At least 2 characters.").max(60, "At most 60 characters.");

export const signUpSchema = z.object({
  name: z.string().trim().max(80, "At most 80 characters.").optional().transform((v) => v || undefined),
  email: z.string().trim().toLowerCase().pipe(z.email("Enter a valid email address.")),
  password: z
    .string()
    .min(PASSWORD_MIN_LENGTH, `At least ${PASSWORD_MIN_LENGTH} characters.`)
    .max(PASSWORD_MAX_LENGTH, `At most ${PASSWORD_MAX_LENGTH} characters.`),
  teamName: teamNameSchema,
});

export type SignUpInput = z.input<typeof signUpSchema>;

/**
 * What a sign-up with an email that already has an account is told. It names
 * no field and does not say the account exists; sign-up itself is rate-limited
 * per address, so it cannot be used to test many emails.
 */
export const SIGN_UP_REFUSED = "We could not create an account with these details. If you already have an account, sign in instead.";

/** Creates the user, their first team, and the owner membership, in one transaction. */
export async function signUp(input: SignUpInput, ip: string | null = null) {
  const data = signUpSchema.parse(input);
  // Web sign-ups always have an address (Gantry's server sets it); the CLI has none.
  if (ip) await enforceLimit(`signup:ip:${ipKey(ip)}`, env().rateLimits.signUpPerIp, 3600, "sign-ups from your address");
  const email = normalizeEmail(data.email);
  // Hashed before the lookup so both outcomes take the same time.
  const passwordHash = await hashPassword(data.password);
  const existing = await db.user.findUnique({ where: { email }, select: { id: true } });
  if (existing) throw new AppError("CONFLICT", SIGN_UP_REFUSED);
  return db.$transaction(async (tx) => {
    // Two sign-ups racing for one email: the unique index decides, and the loser hears the same words.
    const user = await tx.user.create({ data: { email, name: data.name ?? null, passwordHash } }).catch((e: unknown) => {
      if (isUniqueViolation(e)) throw new AppError("CONFLICT", SIGN_UP_REFUSED);
      throw e;
    });
    const actor = { type: "user" as const, id: user.id, label: user.email };
    const team = await createTeamInTx(tx, { name: data.teamName, userId: user.id, actor, ip });
    await recordActivity(tx, { teamId: team.id, actor, action: "user.signed_up", resourceType: "user", resourceId: user.id, ip });
    return { user, team };
  });
}
