import { expect, test } from "@playwright/test";
import { createToken, seedOwner, signIn } from "./fixtures";

test.describe("vendor API /api/v1", () => {
  test("a team token reads its team and members", async ({ request }) => {
    const owner = seedOwner("api");
    const token = createToken(owner.email, owner.team.slug);
    const res = await request.get("/api/v1/team", { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status()).toBe(200);
    const body = await res.json();
    expect(body.team).toMatchObject({ slug: owner.team.slug, name: owner.team.name });
    expect(body.members).toEqual([expect.objectContaining({ role: "owner", user: expect.objectContaining({ email: owner.email }) })]);
    expect(JSON.stringify(body)).not.toMatch(/passwordHash|tokenHash|argon2/);
  });

  test("missing, garbage and revoked tokens get 401 in the error format", async ({ request, page }) => {
    const owner = seedOwner("api401");
    const check = async (headers: Record<string, string>) => {
      const res = await request.get("/api/v1/team", { headers });
      expect(res.status()).toBe(401);
      expect(res.headers()["www-authenticate"]).toContain("Bearer");
      const body = await res.json();
      expect(body).toEqual({ error: { code: "UNAUTHENTICATED", message: expect.any(String) } });
    };
    await check({});
    await check({ Authorization: "Bearer garbage" });
    await check({ Authorization: "Bearer gnt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
    await check({ Authorization: "Basic Zm9vOmJhcg==" });

    // Create and revoke a token through the Settings page.
    await signIn(page, owner.email);
    await page.goto(`/t/${owner.team.slug}/settings`);
    const form = page.getByTestId("create-token-form");
    await form.getByLabel("Token name").fill("deploy bot");
    await form.getByRole("button", { name: "Create token" }).click();
    const token = (await page.getByTestId("new-token-value").textContent())?.trim() ?? "";
    expect(token).toMatch(/^gnt_/);
    expect((await request.get("/api/v1/team", { headers: { Authorization: `Bearer ${token}` } })).status()).toBe(200);

    await page.reload();
    await expect(page.getByTestId("new-token")).toHaveCount(0); // shown once only
    await expect(page.getByTestId("tokens-table")).not.toContainText(token);
    await page.getByRole("button", { name: "Revoke deploy bot" }).click();
    await expect(page.getByTestId("token-deploy bot")).toContainText("revoked");
    await check({ Authorization: `Bearer ${token}` });
  });

  test("unknown API paths answer 404", async ({ request }) => {
    const owner = seedOwner("api404");
    const token = createToken(owner.email, owner.team.slug);
    const res = await request.get("/api/v1/does-not-exist", { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status()).toBe(404);
  });
});
