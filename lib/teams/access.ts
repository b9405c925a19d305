import "server-only";
import { db } from "@/lib/db";
import { forbidden, notFound } from "@/lib/errors";
import type { Actor } from "@/lib/activity/record";
import { can, isRole, type Permission, type Role } from "@/lib/teams/roles";

export interface TeamRef {
  id: string;
  name: string;
  slug: string;
}

/** Everything a team-scoped operation needs: the team, the caller's role, who to log. */
export interface TeamContext {
  team: TeamRef;
  role: Role;
  actor: Actor;
  /** The signed-in user, when the caller is one (not an API token). */
  userId: string | null;
  ip: string | null;
}

/**
 * Resolves a team the user belongs to and checks the permission. A team the
 * user is not a member of is NOT_FOUND, exactly as if it did not exist.
 */
export async function teamContextForUser(
  user: { id: string; email: string },
  teamSlug: string,
  permission: Permission,
  ip: string | null = null,
): Promise<TeamContext> {
  const membership = await db.membership.findFirst({
    where: { userId: user.id, team: { slug: teamSlug } },
    select: { role: true, team: { select: { id: true, name: true, slug: true } } },
  });
  if (!membership || !isRole(membership.role)) throw notFound("Team");
  if (!can(membership.role, permission)) throw forbidden();
  return {
    team: membership.team,
    role: membership.role,
    actor: { type: "user", id: user.id, label: user.email },
    userId: user.id,
    ip,
  };
}

/** The teams a user belongs to, for the team switcher and the landing redirect. */
export function listUserTeams(userId: string) {
  return db.membership.findMany({
    where: { userId },
    orderBy: { team: { name: "asc" } },
    select: { role: true, team: { select: { id: true, name: true, slug: true } } },
  });
}
