import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { SIGN_UP_REFUSED, signUp } from "@/lib/auth/sign-up";
import { teamContextForUser } from "@/lib/teams/access";
import { acceptInvitation, inviteMember } from "@/lib/teams/invitations";
import { changeMemberRole, removeMember } from "@/lib/teams/members";

let n = 0;
const unique = (p: string) => `${p}-${Date.now()}-${n++}@example.com`;
const PASSWORD = "correct horse battery";

async function owner() {
  const email = unique("owner");
  const { user, team } = await signUp({ email, password: PASSWORD, teamName: "Acme Software" });
  return { user, team, ctx: await teamContextForUser(user, team.slug, "team:view") };
}

async function memberOf(team: { slug: string }, ownerCtx: Awaited<ReturnType<typeof owner>>["ctx"], role: "member" | "admin" | "owner") {
  const email = unique(role);
  const { user } = await signUp({ email, password: PASSWORD, teamName: "Own team" });
  const { invitation } = await inviteMember(ownerCtx, { email, role });
  await acceptInvitation(user, invitation.id);
  return { user, ctx: await teamContextForUser(user, team.slug, "team:view") };
}

const actions = (teamId: string) => db.activityEvent.findMany({ where: { teamId }, orderBy: { createdAt: "asc" } }).then((r) => r.map((e) => e.action));

describe("sign-up", () => {
  it("creates the user, the team and the owner membership, with an argon2id hash and activity", async () => {
    const email = unique("signup");
    const { user, team } = await signUp({ email: email.toUpperCase(), password: PASSWORD, teamName: "Acme Software", name: "Ada" });
    const stored = await db.user.findUnique({ where: { id: user.id }, omit: { passwordHash: false } });
    expect(stored?.email).toBe(email);
    expect(stored?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(team.slug).toMatch(/^acme-software(-[0-9a-f]{6})?$/);
    const memberships = await db.membership.findMany({ where: { userId: user.id } });
    expect(memberships).toEqual([expect.objectContaining({ teamId: team.id, role: "owner" })]);
    expect(await actions(team.id)).toEqual(["team.created", "user.signed_up"]);
  });

  it("never selects the password hash by default", async () => {
    const { user } = await owner();
    const row = await db.user.findUnique({ where: { id: user.id } });
    expect(row).not.toHaveProperty("passwordHash");
  });

  it("refuses a taken email with a field error and creates nothing", async () => {
    const email = unique("dup");
    await signUp({ email, password: PASSWORD, teamName: "First" });
    const before = await db.team.count();
    // The same words whatever the reason, and no field: sign-up does not say which emails have accounts.
    await expect(signUp({ email, password: PASSWORD, teamName: "Second" })).rejects.toMatchObject({ code: "CONFLICT", message: SIGN_UP_REFUSED, fields: undefined });
    expect(await db.team.count()).toBe(before);
  });

  it("gives two teams with the same name different slugs", async () => {
    const a = await owner();
    const b = await owner();
    expect(a.team.slug).not.toBe(b.team.slug);
  });
});

describe("role rules", () => {
  it("lets an owner invite an existing user, who sees the team once they accept", async () => {
    const o = await owner();
    const m = await memberOf(o.team, o.ctx, "member");
    expect(m.ctx.role).toBe("member");
    expect(m.ctx.team.id).toBe(o.team.id);
    expect(await actions(o.team.id)).toEqual(expect.arrayContaining(["member.invited", "invitation.accepted"]));
  });

  it("does not let a member invite", async () => {
    const o = await owner();
    const m = await memberOf(o.team, o.ctx, "member");
    await expect(teamContextForUser(m.user, o.team.slug, "member:invite")).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("refuses to invite a current member", async () => {
    const o = await owner();
    const m = await memberOf(o.team, o.ctx, "member");
    const email = (await db.user.findUniqueOrThrow({ where: { id: m.user.id } })).email;
    await expect(inviteMember(o.ctx, { email, role: "admin" })).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("does not let an admin create or touch owners", async () => {
    const o = await owner();
    const a = await memberOf(o.team, o.ctx, "admin");
    await expect(inviteMember(a.ctx, { email: unique("x"), role: "owner" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const ownerMembership = await db.membership.findFirstOrThrow({ where: { teamId: o.team.id, userId: o.user.id } });
    await expect(changeMemberRole(a.ctx, ownerMembership.id, "member")).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(removeMember(a.ctx, ownerMembership.id)).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("keeps the last owner: cannot leave, be removed or be demoted; can once there is another owner", async () => {
    const o = await owner();
    const mine = await db.membership.findFirstOrThrow({ where: { teamId: o.team.id, userId: o.user.id } });
    await expect(removeMember(o.ctx, mine.id)).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/last owner/) });
    await expect(changeMemberRole(o.ctx, mine.id, "admin")).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await db.membership.count({ where: { teamId: o.team.id, role: "owner" } })).toBe(1);

    await memberOf(o.team, o.ctx, "owner");
    await expect(removeMember(o.ctx, mine.id)).resolves.toEqual({ left: true });
    await expect(teamContextForUser(o.user, o.team.slug, "team:view")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await actions(o.team.id)).toContain("member.left");
  });

  it("lets a member leave but not remove others", async () => {
    const o = await owner();
    const m1 = await memberOf(o.team, o.ctx, "member");
    const m2 = await memberOf(o.team, o.ctx, "member");
    const m2Membership = await db.membership.findFirstOrThrow({ where: { teamId: o.team.id, userId: m2.user.id } });
    await expect(removeMember(m1.ctx, m2Membership.id)).rejects.toBeInstanceOf(AppError);
    const m1Membership = await db.membership.findFirstOrThrow({ where: { teamId: o.team.id, userId: m1.user.id } });
    await expect(removeMember(m1.ctx, m1Membership.id)).resolves.toEqual({ left: true });
  });

  it("answers NOT_FOUND for another team's member ids, and for a team the user is not in", async () => {
    const a = await owner();
    const b = await owner();
    const bMembership = await db.membership.findFirstOrThrow({ where: { teamId: b.team.id } });
    await expect(removeMember(a.ctx, bMembership.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(changeMemberRole(a.ctx, bMembership.id, "admin")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(teamContextForUser(a.user, b.team.slug, "team:view")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await db.membership.findUnique({ where: { id: bMembership.id } })).not.toBeNull();
  });

  it("records role changes and removals in the activity log with who did it", async () => {
    const o = await owner();
    const m = await memberOf(o.team, o.ctx, "member");
    const membership = await db.membership.findFirstOrThrow({ where: { teamId: o.team.id, userId: m.user.id } });
    await changeMemberRole(o.ctx, membership.id, "admin");
    await removeMember(o.ctx, membership.id);
    const events = await db.activityEvent.findMany({ where: { teamId: o.team.id, action: { in: ["member.role_changed", "member.removed"] } } });
    expect(events).toHaveLength(2);
    for (const e of events) expect(e.actorId).toBe(o.user.id);
    expect(JSON.parse(events.find((e) => e.action === "member.role_changed")?.metadata ?? "{}")).toMatchObject({ from: "member", to: "admin" });
  });
});
