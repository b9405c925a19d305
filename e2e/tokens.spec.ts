import { expect, test } from "./test";
import { backdateTokenExpiry, gantryCli, inviteAndAccept, seedOwner, signIn } from "./fixtures";

const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

test("an admin token acts with at most its creator's current role and dies when the creator leaves", async ({ page, browser, request }) => {
  const owner = seedOwner("tok-owner");
  const admin = seedOwner("tok-admin");
  await signIn(page, owner.email);
  await inviteAndAccept(browser, page, owner.team.slug, admin.email, "admin");

  const token = gantryCli(["create-token", "--email", admin.email, "--team", owner.team.slug, "--name", "admins-ci"]).at(-1) ?? "";
  expect(token).toMatch(/^gnt_/);
  const slug = `tok-${Date.now().toString(36)}`;
  const created = await request.post("/api/v1/apps", { headers: auth(token), data: { name: "Token App", slug } });
  expect(created.status()).toBe(201);

  // The owner demotes the token's creator to member: the admin token becomes read-only.
  await page.goto(`/t/${owner.team.slug}/settings`);
  const row = page.getByTestId(`member-${admin.email}`);
  await row.getByLabel(`Role of ${admin.email}`).selectOption("member");
  await row.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("token-admins-ci").getByTestId("token-state")).toHaveText("read-only: creator is a member");
  expect((await request.get("/api/v1/apps", { headers: auth(token) })).status()).toBe(200);
  const denied = await request.post("/api/v1/apps", { headers: auth(token), data: { name: "Nope", slug: `${slug}-2` } });
  expect(denied.status()).toBe(403);
  expect((await denied.json()).error.code).toBe("FORBIDDEN");
  await expect(page.getByTestId("token-admins-ci").getByTestId("token-last-used")).not.toHaveText("never");

  // Removed from the team: the token no longer authenticates.
  await page.getByRole("button", { name: `Remove ${admin.email}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Remove" }).click();
  await expect(page.getByTestId(`member-${admin.email}`)).toHaveCount(0);
  expect((await request.get("/api/v1/apps", { headers: auth(token) })).status()).toBe(401);
  await page.reload();
  await expect(page.getByTestId("token-admins-ci").getByTestId("token-state")).toHaveText("inactive: creator left");
});

test("a token created with an expiry works until then and gets 401 once expired", async ({ page, request }) => {
  const owner = seedOwner("tok-expiry");
  await signIn(page, owner.email);
  await page.goto(`/t/${owner.team.slug}/settings`);
  const form = page.getByTestId("create-token-form");

  await form.getByLabel("Token name").fill("bad expiry");
  await form.getByLabel("Expires in (days)").fill("0");
  await form.getByRole("button", { name: "Create token" }).click();
  await expect(form.getByText("At least 1 day.")).toBeVisible();

  await form.getByLabel("Token name").fill("short lived");
  await form.getByLabel("Expires in (days)").fill("7");
  await form.getByRole("button", { name: "Create token" }).click();
  const token = (await page.getByTestId("new-token-value").textContent())?.trim() ?? "";
  expect(token).toMatch(/^gnt_/);
  expect((await request.get("/api/v1/team", { headers: auth(token) })).status()).toBe(200);
  await page.reload();
  const inWeek = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
  await expect(page.getByTestId("token-short lived")).toContainText(inWeek);
  await expect(page.getByTestId("token-short lived").getByTestId("token-state")).toHaveText("active");

  backdateTokenExpiry(owner.team.slug, "short lived");
  const res = await request.get("/api/v1/team", { headers: auth(token) });
  expect(res.status()).toBe(401);
  expect((await res.json()).error.code).toBe("UNAUTHENTICATED");
  await page.reload();
  await expect(page.getByTestId("token-short lived").getByTestId("token-state")).toHaveText("expired");

  // The CLI sets an expiry too.
  const summary = JSON.parse(gantryCli(["create-token", "--email", owner.email, "--team", owner.team.slug, "--name", "cli-exp", "--expires-in-days", "30"]).at(-2) ?? "{}");
  expect(new Date(summary.expiresAt).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
});
