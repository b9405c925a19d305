import "server-only";
import { db, type Tx } from "@/lib/db";
import type { Actor } from "@/lib/activity/record";
import { recordActivity } from "@/lib/activity/record";
import { slugify, withSuffix } from "@/lib/teams/slug";

/** Creates a team with `userId` as its owner, inside the caller's transaction. */
export async function createTeamInTx(tx: Tx, input: { name: string; userId: string; actor: Actor; ip?: string | null }) {
  let slug = slugify(input.name);
  for (let attempt = 0; await tx.team.findUnique({ where: { slug }, select: { id: true } }); attempt++) {
    if (attempt > 5) throw new Error("could not find a free team slug");
    slug = withSuffix(slugify(input.name));
  }
  const team = await tx.team.create({ data: { name: input.name, slug } });
  await tx.membership.create({ data: { teamId: team.id, userId: input.userId, role: "owner" } });
  await recordActivity(tx, {
    teamId: team.id,
    actor: input.actor,
    action: "team.created",
    resourceType: "team",
    resourceId: team.id,
    metadata: { name: team.name },
    ip: input.ip,
  });
  return team;
}

/** Creates another team for a signed-in user, who becomes its owner. */
export async function createTeam(user: { id: string; email: string }, name: string, ip: string | null = null) {
  return db.$transaction((tx) =>
    createTeamInTx(tx, { name, userId: user.id, actor: { type: "user", id: user.id, label: user.email }, ip }),
  );
}
