import fs from "node:fs";
import { expect, test } from "./test";
import { e2eServerLog } from "../playwright.config";
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

  test("a license ID in a URL is refused with 400 before any lookup, and stays out of the server log", async ({ request }) => {
    const owner = seedOwner("api-licurl");
    const auth = { Authorization: `Bearer ${createToken(owner.email, owner.team.slug)}` };
    const slug = `licurl-${Date.now().toString(36)}`;
    expect((await request.post("/api/v1/apps", { headers: auth, data: { name: "License URLs", slug } })).status()).toBe(201);
    const created = await (await request.post(`/api/v1/apps/${slug}/customers`, { headers: auth, data: { name: "Soylent" } })).json();
    const licenseId: string = created.license.licenseId;
    expect(licenseId).toMatch(/^[A-Za-z0-9_-]{32}$/);

    const refused = {
      error: {
        code: "BAD_REQUEST",
        message: "Address licenses by their id or fingerprint, never by the license ID: it is the customer's password and URLs end up in logs.",
      },
    };
    // The real one, and one that exists nowhere: both are refused the same way, so the answer says nothing about the ID.
    for (const id of [licenseId, "A".repeat(32)]) {
      for (const [method, action] of [["POST", "revoke"], ["POST", "restore"], ["GET", "file"], ["GET", "pulls"]] as const) {
        const res = await request.fetch(`/api/v1/licenses/${id}/${action}`, { method, headers: auth, data: method === "POST" ? {} : undefined });
        expect(res.status(), `${method} ${action}`).toBe(400);
        expect(await res.json()).toEqual(refused);
      }
    }
    // Nothing changed, and the ID is nowhere in the server's log.
    const list = await (await request.get(`/api/v1/apps/${slug}/customers`, { headers: auth })).json();
    expect(list.customers[0].license).toMatchObject({ id: created.license.id, state: "active" });
    expect(fs.readFileSync(e2eServerLog, "utf8")).not.toContain(licenseId);
  });

  test("customer pages follow an opaque cursor that survives a revoke; a bad cursor is 422; concurrent revokes: one 200, the rest 409", async ({ request }) => {
    const owner = seedOwner("api-pages");
    const auth = { Authorization: `Bearer ${createToken(owner.email, owner.team.slug)}` };
    const slug = `pages-${Date.now().toString(36)}`;
    expect((await request.post("/api/v1/apps", { headers: auth, data: { name: "Pages", slug } })).status()).toBe(201);
    const names: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await request.post(`/api/v1/apps/${slug}/customers`, { headers: auth, data: { name: `Customer ${i}` } });
      expect(res.status()).toBe(201);
      names.push(`Customer ${i}`);
    }
    const list = async (query: string) => request.get(`/api/v1/apps/${slug}/customers?state=active&pageSize=2${query}`, { headers: auth });
    const first = await (await list("")).json();
    expect(first.customers.map((c: { name: string }) => c.name)).toEqual(["Customer 4", "Customer 3"]);
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);

    // Twenty revokes of page 1's last customer at once: exactly one wins.
    const licenseRowId: string = first.customers[1].license.id;
    const statuses = await Promise.all(Array.from({ length: 20 }, () => request.post(`/api/v1/licenses/${licenseRowId}/revoke`, { headers: auth, data: {} }).then((r) => r.status())));
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);

    // The cursor row has left the "active" filter; page 2 still carries on after it.
    const second = await (await list(`&before=${first.nextCursor}`)).json();
    expect(second.customers.map((c: { name: string }) => c.name)).toEqual(["Customer 2", "Customer 1"]);

    for (const bad of ["garbage!", first.customers[0].id]) {
      const res = await list(`&before=${encodeURIComponent(bad)}`);
      expect(res.status(), bad).toBe(422);
      expect((await res.json()).error).toMatchObject({ code: "VALIDATION", fields: { before: [expect.stringMatching(/cursor/)] } });
    }
  });

  test("unknown API paths answer 404", async ({ request }) => {
    const owner = seedOwner("api404");
    const token = createToken(owner.email, owner.team.slug);
    const res = await request.get("/api/v1/does-not-exist", { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status()).toBe(404);
  });
});
