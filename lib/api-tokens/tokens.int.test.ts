import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { signUp } from "@/lib/auth/sign-up";
import { authenticateApiToken, createApiToken, hashToken, revokeApiToken } from "@/lib/api-tokens/tokens";
import { teamContextForUser } from "@/lib/teams/access";

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
