import "server-only";
import { z } from "zod";
import { db, type Tx } from "@/lib/db";
import { AppError, forbidden, notFound } from "@/lib/errors";
import { recordActivity } from "@/lib/activity/record";
import { serializable } from "@/lib/transactions";
import type { TeamContext } from "@/lib/teams/access";
import { canAssignRole, canRemoveMember, isRole, ROLES, type Role } from "@/lib/teams/roles";

export const roleSchema = z.enum(ROLES, { message: "Choose owner, admin or member." });

// Inviting lives in lib/teams/invitations.ts: nobody joins a team without accepting.

export function listMembers(teamId: string) {
  return db.membership.findMany({
    where: { teamId },
    orderBy: [{ createdAt: "asc" }],
    select: { id: true, role: true, createdAt: true, user: { select: { id: true, email: true, name: true } } },
  });
}

async function loadMember(teamId: string, membershipId: string) {
  const m = await db.membership.findFirst({
    where: { id: membershipId, teamId },
    select: { id: true, role: true, userId: true, user: { select: { email: true } } },
  });
  if (!m || !isRole(m.role)) throw notFound("Member");
  return { ...m, role: m.role };
}

/**
 * Counts owners inside the (serializable) transaction that demotes or removes
 * one. Two owners demoting each other read the same two owners: SQLite runs
 * one transaction at a time, PostgreSQL aborts one of them (retried by
 * `serializable`, it then sees a single owner). A conditional update on the
 * target alone could not state "some other row is still an owner".
 */
async function assertNotLastOwner(tx: Tx, teamId: string, message: string) {
  const owners = await tx.membership.count({ where: { teamId, role: "owner" } });
  if (owners <= 1) throw new AppError("CONFLICT", message);
}

const CHANGED_MEANWHILE = "This member was changed or removed meanwhile. Reload the page and try again.";

export async function changeMemberRole(ctx: TeamContext, membershipId: string, nextRole: Role) {
  const target = await loadMember(ctx.team.id, membershipId);
  if (!canAssignRole(ctx.role, target.role, nextRole)) throw forbidden("Only an owner can grant or remove the owner role.");
  if (target.role === nextRole) return target;
  return serializable(async (tx) => {
    if (target.role === "owner") await assertNotLastOwner(tx, ctx.team.id, "A team needs at least one owner. Make someone else an owner first.");
    // Only from the role that was read (and checked above): a concurrent change makes this a 409, logged once.
    const { count } = await tx.membership.updateMany({ where: { id: target.id, teamId: ctx.team.id, role: target.role }, data: { role: nextRole } });
    if (count !== 1) throw new AppError("CONFLICT", CHANGED_MEANWHILE);
    const updated = await tx.membership.findUniqueOrThrow({ where: { id: target.id } });
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "member.role_changed",
      resourceType: "member",
      resourceId: target.id,
      metadata: { email: target.user.email, from: target.role, to: nextRole },
      ip: ctx.ip,
    });
    return updated;
  });
}

/** Removes a member. Anyone may remove themselves (leave), except the last owner. */
export async function removeMember(ctx: TeamContext, membershipId: string) {
  const target = await loadMember(ctx.team.id, membershipId);
  const leaving = ctx.userId !== null && target.userId === ctx.userId;
  if (!leaving && !canRemoveMember(ctx.role, target.role)) throw forbidden("Only an owner can remove an owner.");
  await serializable(async (tx) => {
    if (target.role === "owner") {
      await assertNotLastOwner(tx, ctx.team.id, "The last owner cannot leave or be removed. Make someone else an owner first.");
    }
    const { count } = await tx.membership.deleteMany({ where: { id: target.id, teamId: ctx.team.id, role: target.role } });
    if (count !== 1) throw new AppError("CONFLICT", CHANGED_MEANWHILE);
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: leaving ? "member.left" : "member.removed",
      resourceType: "member",
      resourceId: target.id,
      metadata: { email: target.user.email, role: target.role },
      ip: ctx.ip,
    });
  });
  return { left: leaving };
}

export async function renameTeam(ctx: TeamContext, name: string) {
  return db.$transaction(async (tx) => {
    const team = await tx.team.update({ where: { id: ctx.team.id }, data: { name } });
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "team.renamed",
      resourceType: "team",
      resourceId: ctx.team.id,
      metadata: { from: ctx.team.name, to: name },
      ip: ctx.ip,
    });
    return team;
  });
}
