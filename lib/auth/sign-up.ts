import "server-only";
import { z } from "zod";
import { db } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { recordActivity } from "@/lib/activity/record";
import { hashPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "@/lib/auth/password";
import { normalizeEmail } from "@/lib/auth/credentials";
import { createTeamInTx } from "@/lib/teams/create-team";

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

/** Creates the user, their first team, and the owner membership, in one transaction. */
export async function signUp(input: SignUpInput, ip: string | null = null) {
  const data = signUpSchema.parse(input);
  const email = normalizeEmail(data.email);
  const passwordHash = await hashPassword(data.password);
  const existing = await db.user.findUnique({ where: { email }, select: { id: true } });
  if (existing) {
    throw new AppError("CONFLICT", "An account with this email already exists. Sign in instead.", {
      fields: { email: ["An account with this email already exists."] },
    });
  }
  return db.$transaction(async (tx) => {
    const user = await tx.user.create({ data: { email, name: data.name ?? null, passwordHash } });
    const actor = { type: "user" as const, id: user.id, label: user.email };
    const team = await createTeamInTx(tx, { name: data.teamName, userId: user.id, actor, ip });
    await recordActivity(tx, { teamId: team.id, actor, action: "user.signed_up", resourceType: "user", resourceId: user.id, ip });
    return { user, team };
  });
}
