import { db } from "@/lib/db";
import { normalizeEmail } from "@/lib/auth/credentials";
import { createApiToken, createTokenSchema } from "@/lib/api-tokens/tokens";
import { can, isRole } from "@/lib/teams/roles";
import { CliError, requireOption } from "../args";

/**
 * `create-token --email E --team "T" [--name N] [--role admin|member] [--expires-in-days N]`:
 * prints a new API token on its last line. The token belongs to that member
 * (createdById is their user id), so it stops working when they leave the team
 * and never acts above their current role.
 */
export async function createToken(options: Record<string, string | true>) {
  const email = normalizeEmail(requireOption(options, "email"));
  const teamName = requireOption(options, "team").trim();
  const name = typeof options.name === "string" ? options.name : "cli";
  const role = options.role === "member" ? "member" : "admin";
  const expiresIn = options["expires-in-days"];
  if (expiresIn === true) throw new CliError("--expires-in-days needs a number of days.");
  const parsedExpiry = createTokenSchema.shape.expiresInDays.safeParse(expiresIn);
  if (!parsedExpiry.success) throw new CliError(`--expires-in-days: ${parsedExpiry.error.issues[0]?.message ?? "invalid"}`);
  const membership = await db.membership.findFirst({
    where: { user: { email }, OR: [{ team: { name: teamName } }, { team: { slug: teamName } }] },
    select: { role: true, userId: true, team: { select: { id: true, name: true, slug: true } } },
  });
  if (!membership || !isRole(membership.role)) throw new CliError(`${email} is not a member of a team "${teamName}".`, 1);
  if (!can(membership.role, "api-token:manage")) throw new CliError(`${email} is a ${membership.role}; only owners and admins create API tokens.`, 1);
  const created = await createApiToken(
    { team: membership.team, role: membership.role, actor: { type: "user", id: membership.userId, label: `${email} (CLI)` }, userId: membership.userId, ip: null },
    { name, role, expiresInDays: parsedExpiry.data },
  );
  return {
    summary: { id: created.id, name: created.name, role: created.role, team: membership.team.slug, expiresAt: created.expiresAt?.toISOString() ?? null },
    token: created.token,
  };
}
