import { describe, expect, it } from "vitest";
import { signUp } from "@/lib/auth/sign-up";
import { createApp } from "@/lib/apps/apps";
import { createRegistry, updateRegistry } from "@/lib/registries/registries";
import { teamContextForUser } from "@/lib/teams/access";
import { resolveRegistry, upstreamClient } from "./upstream";

/** One registry client per (registry, version of its row): the password is decrypted once per change, not per request. */
describe("upstream clients", () => {
  it("are reused while the registry is unchanged, and rebuilt after any change to it", async () => {
    const { user, team } = await signUp({ email: `upstream-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Upstream" });
    const ctx = await teamContextForUser(user, team.slug, "team:view");
    const slug = `upstream-${Date.now().toString(36)}`;
    await createApp(ctx, { name: "Upstream", slug });
    const reg = await createRegistry(ctx, { name: "R", endpoint: "http://127.0.0.1:5999", username: "u", password: "p1" });

    const first = await resolveRegistry(team.id, "127.0.0.1_5999", slug);
    const a = await upstreamClient(team.id, first);
    const b = await upstreamClient(team.id, await resolveRegistry(team.id, "127.0.0.1_5999", slug));
    expect(b).toBe(a);

    // A new password alone bumps the row's version: the next request gets a client with it.
    await new Promise((r) => setTimeout(r, 5));
    await updateRegistry(ctx, reg.id, { password: "p2" });
    const after = await resolveRegistry(team.id, "127.0.0.1_5999", slug);
    expect(after.updatedAt.getTime()).toBeGreaterThan(first.updatedAt.getTime());
    const c = await upstreamClient(team.id, after);
    expect(c).not.toBe(a);
    expect(await upstreamClient(team.id, after)).toBe(c);
  });
});
