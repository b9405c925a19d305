import { db } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { normalizeEmail } from "@/lib/auth/credentials";
import { verifyPassword } from "@/lib/auth/password";
import { signUp } from "@/lib/auth/sign-up";
import { createTeam } from "@/lib/teams/create-team";
import { CliError, requireOption } from "../args";

/**
 * `bootstrap --email E --password P --team "T"`: creates the user (or reuses it
 * when the password matches) and the team, with the user as owner. Idempotent:
 * running it again changes nothing and prints the same summary.
 */
export async function bootstrap(options: Record<string, string | true>) {
  const email = normalizeEmail(requireOption(options, "email"));
  const password = requireOption(options, "password");
  const teamName = requireOption(options, "team").trim();

  const existing = await db.user.findUnique({ where: { email }, omit: { passwordHash: false } });
  if (!existing) {
    const { user, team } = await signUp({ email, password, teamName });
    return { user: { id: user.id, email: user.email, created: true }, team: { id: team.id, name: team.name, slug: team.slug, created: true }, role: "owner" };
  }
  if (!(await verifyPassword(existing.passwordHash, password))) {
    throw new CliError(`A user ${email} exists and the password does not match.`, 1);
  }
  const membership = await db.membership.findFirst({
    where: { userId: existing.id, team: { name: teamName } },
    select: { role: true, team: { select: { id: true, name: true, slug: true } } },
  });
  if (membership) {
    if (membership.role !== "owner") throw new CliError(`${email} is in team "${teamName}" as ${membership.role}, not owner.`, 1);
    return { user: { id: existing.id, email, created: false }, team: { ...membership.team, created: false }, role: "owner" };
  }
  const team = await createTeam({ id: existing.id, email }, teamName).catch((e: unknown) => {
    if (e instanceof AppError) throw new CliError(e.message, 1);
    throw e;
  });
  return { user: { id: existing.id, email, created: false }, team: { id: team.id, name: team.name, slug: team.slug, created: true }, role: "owner" };
}
