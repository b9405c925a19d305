import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { checkCredentials } from "@/lib/auth/credentials";
import { signUp } from "@/lib/auth/sign-up";
import { teamContextForUser } from "@/lib/teams/access";
import {
  acceptInvitation,
  cancelInvitation,
  declineInvitation,
  inviteMember,
  listMyInvitations,
  listTeamInvitations,
} from "@/lib/teams/invitations";

let n = 0;
const unique = (p: string) => `${p}-${Date.now()}-${n++}@example.com`;
const PASSWORD = "correct horse battery";

async function owner() {
  const { user, team } = await signUp({ email: unique("inv-owner"), password: PASSWORD, teamName: "Inviting Co" });
  return { user, team, ctx: await teamContextForUser(user, team.slug, "team:view") };
}

async function someone() {
  const email = unique("invitee");
  const { user, team } = await signUp({ email, password: PASSWORD, teamName: "Invitee Own" });
  return { user: { id: user.id, email: user.email }, ownTeam: team };
}

const membershipsIn = (teamId: string, userId: string) => db.membership.count({ where: { teamId, userId } });
const actions = (teamId: string) => db.activityEvent.findMany({ where: { teamId }, orderBy: { createdAt: "asc" } }).then((r) => r.map((e) => e.action));

describe("invitations", () => {
  it("creates a pending invitation and no membership; the invitee sees it and joins by accepting", async () => {
    const o = await owner();
    const invitee = await someone();
    const { invitation, message } = await inviteMember(o.ctx, { email: invitee.user.email.toUpperCase(), role: "admin" });
    expect(invitation.email).toBe(invitee.user.email);
    expect(message).toBe(`Invitation created for ${invitee.user.email}. They will see it after signing in or signing up with this email.`);
    expect(await membershipsIn(o.team.id, invitee.user.id)).toBe(0);
    await expect(teamContextForUser(invitee.user, o.team.slug, "team:view")).rejects.toMatchObject({ code: "NOT_FOUND" });

    expect((await listMyInvitations(invitee.user)).map((i) => i.team.slug)).toEqual([o.team.slug]);
    expect((await listTeamInvitations(o.team.id)).map((i) => i.email)).toEqual([invitee.user.email]);

    const accepted = await acceptInvitation(invitee.user, invitation.id);
    expect(accepted).toMatchObject({ team: { slug: o.team.slug }, role: "admin" });
    const ctx = await teamContextForUser(invitee.user, o.team.slug, "team:view");
    expect(ctx.role).toBe("admin");
    expect(await listMyInvitations(invitee.user)).toEqual([]);
    expect(await listTeamInvitations(o.team.id)).toEqual([]);
    expect(await actions(o.team.id)).toEqual(expect.arrayContaining(["member.invited", "invitation.accepted"]));
  });

  it("answers the same message for an email with an account and one without", async () => {
    const o = await owner();
    const existing = await someone();
    const unknown = unique("no-account");
    const a = await inviteMember(o.ctx, { email: existing.user.email, role: "member" });
    const b = await inviteMember(o.ctx, { email: unknown, role: "member" });
    expect(a.message.replace(existing.user.email, "<email>")).toBe(b.message.replace(unknown, "<email>"));
    expect(Object.keys(a.invitation).sort()).toEqual(Object.keys(b.invitation).sort());

    // Someone who signs up later with the invited email sees the invitation.
    const { user } = await signUp({ email: unknown, password: PASSWORD, teamName: "Later" });
    expect((await listMyInvitations(user)).map((i) => i.id)).toEqual([b.invitation.id]);
  });

  it("creates exactly one membership under 20 concurrent accepts", async () => {
    const o = await owner();
    const invitee = await someone();
    const { invitation } = await inviteMember(o.ctx, { email: invitee.user.email, role: "member" });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => acceptInvitation(invitee.user, invitation.id)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "CONFLICT" });
    expect(await membershipsIn(o.team.id, invitee.user.id)).toBe(1);
    const accepted = await db.activityEvent.count({ where: { teamId: o.team.id, action: "invitation.accepted" } });
    expect(accepted).toBe(1);
  });

  it("cannot be accepted once declined, cancelled or expired, nor by another user", async () => {
    const o = await owner();
    const [declined, cancelled, expired, other] = await Promise.all([someone(), someone(), someone(), someone()]);

    const d = await inviteMember(o.ctx, { email: declined.user.email, role: "member" });
    await declineInvitation(declined.user, d.invitation.id);
    await expect(acceptInvitation(declined.user, d.invitation.id)).rejects.toMatchObject({ code: "CONFLICT" });

    const c = await inviteMember(o.ctx, { email: cancelled.user.email, role: "member" });
    await cancelInvitation(o.ctx, c.invitation.id);
    await expect(acceptInvitation(cancelled.user, c.invitation.id)).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(declineInvitation(cancelled.user, c.invitation.id)).rejects.toMatchObject({ code: "CONFLICT" });

    const e = await inviteMember(o.ctx, { email: expired.user.email, role: "member" });
    await db.invitation.update({ where: { id: e.invitation.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await listMyInvitations(expired.user)).toEqual([]);
    expect((await listTeamInvitations(o.team.id)).find((i) => i.id === e.invitation.id)?.expired).toBe(true);
    await expect(acceptInvitation(expired.user, e.invitation.id)).rejects.toMatchObject({ code: "CONFLICT" });

    // An invitation for someone else's email cannot be taken over by id.
    const x = await inviteMember(o.ctx, { email: unique("addressee"), role: "admin" });
    await expect(acceptInvitation(other.user, x.invitation.id)).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(declineInvitation(other.user, x.invitation.id)).rejects.toMatchObject({ code: "CONFLICT" });

    for (const u of [declined, cancelled, expired, other]) expect(await membershipsIn(o.team.id, u.user.id)).toBe(0);
    expect(await actions(o.team.id)).toEqual(expect.arrayContaining(["invitation.declined", "invitation.cancelled"]));
  });

  it("renews a pending invitation with a new id, so the older one cannot be accepted", async () => {
    const o = await owner();
    const invitee = await someone();
    const first = await inviteMember(o.ctx, { email: invitee.user.email, role: "member" });
    const second = await inviteMember(o.ctx, { email: invitee.user.email, role: "admin" });
    expect(second.invitation.id).not.toBe(first.invitation.id);
    expect(await listTeamInvitations(o.team.id)).toHaveLength(1);
    await expect(acceptInvitation(invitee.user, first.invitation.id)).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(acceptInvitation(invitee.user, second.invitation.id)).resolves.toMatchObject({ role: "admin" });
    await expect(inviteMember(o.ctx, { email: invitee.user.email, role: "member" })).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("keeps owner invitations in owners' hands", async () => {
    const o = await owner();
    const admin = await someone();
    const inv = await inviteMember(o.ctx, { email: admin.user.email, role: "admin" });
    await acceptInvitation(admin.user, inv.invitation.id);
    const adminCtx = await teamContextForUser(admin.user, o.team.slug, "member:invite");
    await expect(inviteMember(adminCtx, { email: unique("x"), role: "owner" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const ownerInvite = await inviteMember(o.ctx, { email: unique("future-owner"), role: "owner" });
    await expect(cancelInvitation(adminCtx, ownerInvite.invitation.id)).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(inviteMember(adminCtx, { email: ownerInvite.invitation.email, role: "member" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    // Another team's invitation id is not found.
    const other = await owner();
    await expect(cancelInvitation(other.ctx, ownerInvite.invitation.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("writes no sign-in activity into a team whose invitation is still pending", async () => {
    const o = await owner();
    const invitee = await someone();
    const { invitation } = await inviteMember(o.ctx, { email: invitee.user.email, role: "member" });
    expect(await checkCredentials(invitee.user.email, PASSWORD, "198.51.100.7")).not.toBeNull();
    const signIns = (teamId: string) => db.activityEvent.count({ where: { teamId, action: "user.signed_in", actorId: invitee.user.id } });
    expect(await signIns(o.team.id)).toBe(0);
    expect(await signIns(invitee.ownTeam.id)).toBe(1);

    await acceptInvitation(invitee.user, invitation.id);
    await checkCredentials(invitee.user.email, PASSWORD, "198.51.100.7");
    expect(await signIns(o.team.id)).toBe(1);
  });
});
