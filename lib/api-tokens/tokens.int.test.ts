import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { signUp } from "@/lib/auth/sign-up";
import { authenticateApiToken, createApiToken, hashToken, listApiTokens, revokeApiToken } from "@/lib/api-tokens/tokens";
import { teamContextForUser } from "@/lib/teams/access";
import { acceptInvitation, inviteMember } from "@/lib/teams/invitations";
import { changeMemberRole, removeMember } from "@/lib/teams/members";

describe("API tokens", () => {
  it("stores only a hash, authenticates to its team, and stops working once revoked", async () => {
    const { user, team } = await signUp({ email: `tok-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Tokens" });
    const ctx = await teamContextForUser(user, team.slug, "api-token:manage");
    const created = await createApiToken(ctx, { name: "ci" });
    expect(created.token).toMatch(/^gnt_[A-Za-z0-9_-]{43}$/);
    const row = await db.apiToken.findUniqueOrThrow({ where: { id: created.id }, omit: { tokenHash: false } });
    expect(row.tokenHash).toBe(hashToken(created.token));
    expect(JSON.stringify(row)).not.toContain(created.token);

    expect((await authenticateApiToken(created.token))?.team.id).toBe(team.id);
    expect(await authenticateApiToken(`${created.token}x`)).toBeNull();
    expect(await authenticateApiToken("garbage")).toBeNull();

    await revokeApiToken(ctx, created.id);
    expect(await authenticateApiToken(created.token)).toBeNull();
    const events = await db.activityEvent.findMany({ where: { teamId: team.id, action: { startsWith: "api_token." } } });
    expect(events.map((e) => e.action).sort()).toEqual(["api_token.created", "api_token.revoked"]);
  });
});

describe("API token lifetime and effective role", () => {
  let n = 0;
  const PASSWORD = "correct horse battery";
  const email = (p: string) => `${p}-${Date.now()}-${n++}@example.com`;

  async function teamWithAdmin() {
    const { user: owner, team } = await signUp({ email: email("tok-owner"), password: PASSWORD, teamName: "Token Co" });
    const ownerCtx = await teamContextForUser(owner, team.slug, "api-token:manage");
    const { user: admin } = await signUp({ email: email("tok-admin"), password: PASSWORD, teamName: "Admin Own" });
    const { invitation } = await inviteMember(ownerCtx, { email: admin.email, role: "admin" });
    await acceptInvitation(admin, invitation.id);
    const adminCtx = await teamContextForUser(admin, team.slug, "api-token:manage");
    const membership = await db.membership.findFirstOrThrow({ where: { teamId: team.id, userId: admin.id } });
    return { team, ownerCtx, adminCtx, membership };
  }

  it("refuses a token after its expiry, like a revoked one", async () => {
    const { ownerCtx } = await teamWithAdmin();
    const created = await createApiToken(ownerCtx, { name: "short", expiresInDays: 1 });
    expect(created.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
    expect(await authenticateApiToken(created.token)).not.toBeNull();
    expect(await authenticateApiToken(created.token, new Date(Date.now() + 2 * 24 * 3600_000))).toBeNull();
    await db.apiToken.update({ where: { id: created.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await authenticateApiToken(created.token)).toBeNull();
    const forever = await createApiToken(ownerCtx, { name: "forever", expiresInDays: "" });
    expect(forever.expiresAt).toBeNull();
    await expect(createApiToken(ownerCtx, { name: "bad", expiresInDays: 0 })).rejects.toMatchObject({ name: "ZodError" });
  });

  it("stops working when its creator leaves or is removed from the team", async () => {
    const left = await teamWithAdmin();
    const token = await createApiToken(left.adminCtx, { name: "mine" });
    expect((await authenticateApiToken(token.token))?.role).toBe("admin");
    await removeMember(left.adminCtx, left.membership.id);
    expect(await authenticateApiToken(token.token)).toBeNull();

    const removed = await teamWithAdmin();
    const token2 = await createApiToken(removed.adminCtx, { name: "theirs" });
    await removeMember(removed.ownerCtx, removed.membership.id);
    expect(await authenticateApiToken(token2.token)).toBeNull();
    // Their token is listed as inactive.
    expect((await listApiTokens(removed.team.id)).find((t) => t.id === token2.id)?.creatorRole).toBeNull();
  });

  it("acts with at most its creator's current role", async () => {
    const { team, ownerCtx, adminCtx, membership } = await teamWithAdmin();
    const adminToken = await createApiToken(adminCtx, { name: "ops", role: "admin" });
    const memberToken = await createApiToken(adminCtx, { name: "ro", role: "member" });
    expect(await authenticateApiToken(adminToken.token)).toMatchObject({ role: "admin", tokenRole: "admin", team: { id: team.id } });

    await changeMemberRole(ownerCtx, membership.id, "member");
    expect(await authenticateApiToken(adminToken.token)).toMatchObject({ role: "member", tokenRole: "admin" });
    expect(await authenticateApiToken(memberToken.token)).toMatchObject({ role: "member" });

    await changeMemberRole(ownerCtx, membership.id, "owner");
    // Never above the token's own role, even for an owner.
    expect(await authenticateApiToken(adminToken.token)).toMatchObject({ role: "admin" });
    expect(await authenticateApiToken(memberToken.token)).toMatchObject({ role: "member" });
  });

  it("cannot be created without a signed-in member (e.g. by another token)", async () => {
    const { ownerCtx } = await teamWithAdmin();
    await expect(createApiToken({ ...ownerCtx, userId: null }, { name: "orphan" })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });
});
