import "server-only";
import { z } from "zod";
import { db } from "@/lib/db";
import { AppError, forbidden, notFound } from "@/lib/errors";
import { recordActivity } from "@/lib/activity/record";
import { serializable } from "@/lib/transactions";
import type { TeamContext } from "@/lib/teams/access";
import { canAssignRole, isRole, ROLES, type Role } from "@/lib/teams/roles";

/** How long an invitation can be accepted. Re-inviting starts the period again. */
export const INVITATION_TTL_DAYS = 14;
const DAY_MS = 24 * 60 * 60 * 1000;

export const inviteSchema = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email("Enter a valid email address.")),
  role: z.enum(ROLES, { message: "Choose owner, admin or member." }).default("member"),
});

/**
 * The one answer to an invitation, whether or not the email has an account:
 * telling the two apart would let any admin probe which emails use Gantry.
 */
export const invitationCreatedMessage = (email: string) =>
  `Invitation created for ${email}. They will see it after signing in or signing up with this email.`;

/** The user an invitation is addressed to: signed in, with this (lowercased) account email. */
export interface Invitee {
  id: string;
  email: string;
}

const INVALID = "This invitation is no longer valid: it was accepted, declined, cancelled or has expired.";

/**
 * Invites an email address to the team with a role. Creates (or renews) a
 * pending invitation and no membership: the invitee joins by accepting.
 * Renewing replaces the row, so a link to the older invitation stops working.
 */
export async function inviteMember(ctx: TeamContext, input: z.input<typeof inviteSchema>) {
  const { email, role } = inviteSchema.parse(input);
  if (!canAssignRole(ctx.role, "member", role)) throw forbidden("Only an owner can invite an owner.");
  // The inviter sees the member list anyway, so saying "already a member" reveals nothing new.
  const member = await db.membership.findFirst({ where: { teamId: ctx.team.id, user: { email } }, select: { id: true } });
  if (member) {
    throw new AppError("CONFLICT", "Already a member of this team.", { fields: { email: ["Already a member of this team."] } });
  }
  const now = new Date();
  // Serializable: two invitations of one address at once would both delete the
  // previous row and both create one (the second a unique violation); one is
  // retried instead and replaces the other, as a re-invite does.
  const invitation = await serializable(async (tx) => {
    const previous = await tx.invitation.findUnique({ where: { teamId_email: { teamId: ctx.team.id, email } }, select: { status: true, role: true } });
    if (previous?.status === "pending" && isRole(previous.role) && !canAssignRole(ctx.role, previous.role, role)) {
      throw forbidden("Only an owner can change an invitation to the owner role.");
    }
    if (previous) await tx.invitation.delete({ where: { teamId_email: { teamId: ctx.team.id, email } } });
    const created = await tx.invitation.create({
      data: {
        teamId: ctx.team.id,
        email,
        role,
        invitedById: ctx.userId,
        invitedByLabel: ctx.actor.label,
        createdAt: now,
        expiresAt: new Date(now.getTime() + INVITATION_TTL_DAYS * DAY_MS),
      },
      select: { id: true, email: true, role: true, expiresAt: true },
    });
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "member.invited",
      resourceType: "invitation",
      resourceId: created.id,
      metadata: previous?.status === "pending" ? { email, role, renewed: true } : { email, role },
      ip: ctx.ip,
    });
    return created;
  });
  return { invitation, message: invitationCreatedMessage(email) };
}

/** The team's pending invitations (expired ones too, flagged, so an admin can renew or cancel them). */
export async function listTeamInvitations(teamId: string, now = new Date()) {
  const rows = await db.invitation.findMany({
    where: { teamId, status: "pending" },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { id: true, email: true, role: true, invitedByLabel: true, createdAt: true, expiresAt: true },
  });
  return rows.map((r) => ({ ...r, expired: r.expiresAt <= now }));
}

/** Cancels a pending invitation of this team. Only an owner cancels an owner invitation. */
export async function cancelInvitation(ctx: TeamContext, invitationId: string) {
  const invitation = await db.invitation.findFirst({
    where: { id: invitationId, teamId: ctx.team.id, status: "pending" },
    select: { id: true, email: true, role: true },
  });
  if (!invitation || !isRole(invitation.role)) throw notFound("Invitation");
  if (!canAssignRole(ctx.role, invitation.role, invitation.role)) throw forbidden("Only an owner can cancel an owner invitation.");
  await db.$transaction(async (tx) => {
    const { count } = await tx.invitation.updateMany({
      where: { id: invitation.id, teamId: ctx.team.id, status: "pending" },
      data: { status: "cancelled", respondedAt: new Date() },
    });
    if (count !== 1) throw notFound("Invitation");
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "invitation.cancelled",
      resourceType: "invitation",
      resourceId: invitation.id,
      metadata: { email: invitation.email, role: invitation.role },
      ip: ctx.ip,
    });
  });
}

/** The invitations a signed-in user can still accept: pending, unexpired, for their account email. */
export function listMyInvitations(user: Invitee, now = new Date()) {
  return db.invitation.findMany({
    where: { email: user.email, status: "pending", expiresAt: { gt: now } },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { id: true, role: true, invitedByLabel: true, createdAt: true, expiresAt: true, team: { select: { name: true, slug: true } } },
  });
}

/** How many invitations wait for the user (for the shell's badge). */
export function countMyInvitations(user: Invitee, now = new Date()) {
  return db.invitation.count({ where: { email: user.email, status: "pending", expiresAt: { gt: now } } });
}

/**
 * Accepts an invitation addressed to the user's email: marks it accepted and
 * creates the membership with the invited role, in one transaction. The status
 * change is conditional on the invitation still being pending and unexpired
 * (checked by count), so concurrent accepts create one membership at most.
 */
export async function acceptInvitation(user: Invitee, invitationId: string, ip: string | null = null) {
  return db.$transaction(async (tx) => {
    const now = new Date();
    const { count } = await tx.invitation.updateMany({
      where: { id: invitationId, email: user.email, status: "pending", expiresAt: { gt: now } },
      data: { status: "accepted", respondedAt: now },
    });
    if (count !== 1) throw new AppError("CONFLICT", INVALID);
    const invitation = await tx.invitation.findUniqueOrThrow({
      where: { id: invitationId },
      select: { id: true, role: true, teamId: true, team: { select: { slug: true, name: true } } },
    });
    const role: Role = isRole(invitation.role) ? invitation.role : "member";
    const existing = await tx.membership.findUnique({ where: { teamId_userId: { teamId: invitation.teamId, userId: user.id } }, select: { id: true } });
    // Already a member (added since the invitation was sent): keep the current role.
    if (!existing) await tx.membership.create({ data: { teamId: invitation.teamId, userId: user.id, role } });
    await recordActivity(tx, {
      teamId: invitation.teamId,
      actor: { type: "user", id: user.id, label: user.email },
      action: "invitation.accepted",
      resourceType: "invitation",
      resourceId: invitation.id,
      metadata: { email: user.email, role: existing ? "unchanged (already a member)" : role },
      ip,
    });
    return { team: invitation.team, role };
  });
}

/** Declines a pending invitation addressed to the user's email. */
export async function declineInvitation(user: Invitee, invitationId: string, ip: string | null = null) {
  await db.$transaction(async (tx) => {
    const { count } = await tx.invitation.updateMany({
      where: { id: invitationId, email: user.email, status: "pending" },
      data: { status: "declined", respondedAt: new Date() },
    });
    if (count !== 1) throw new AppError("CONFLICT", INVALID);
    const invitation = await tx.invitation.findUniqueOrThrow({ where: { id: invitationId }, select: { teamId: true, role: true } });
    await recordActivity(tx, {
      teamId: invitation.teamId,
      actor: { type: "user", id: user.id, label: user.email },
      action: "invitation.declined",
      resourceType: "invitation",
      resourceId: invitationId,
      metadata: { email: user.email, role: invitation.role },
      ip,
    });
  });
}
