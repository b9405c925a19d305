import { expect, test, type Page } from "./test";
import { createToken, seedOwner, signIn } from "./fixtures";

/**
 * User B must not read or change user A's team, members or activity — through
 * pages, server actions (forged form posts) or API handlers — and A keeps access.
 */
test("another team's pages, actions and API are not found, and the owner keeps access", async ({ browser, request }) => {
  const a = seedOwner("tenant-a", "Tenant A Corp");
  const b = seedOwner("tenant-b", "Tenant B Corp");

  const pageB = await (await browser.newContext()).newPage();
  await signIn(pageB, b.email);

  // Pages: every area of A's team is a 404 for B, and shows nothing of A.
  for (const area of ["", "/apps", "/registries", "/customers", "/cache", "/activity", "/settings"]) {
    const res = await pageB.goto(`/t/${a.team.slug}${area}`);
    expect(res?.status(), `GET /t/${a.team.slug}${area}`).toBe(404);
    await expect(pageB.getByText("Not found", { exact: true })).toBeVisible();
    await expect(pageB.locator("body")).not.toContainText("Tenant A Corp");
    await expect(pageB.locator("body")).not.toContainText(a.email);
  }

  // Actions: B forges A's team slug into B's own forms.
  await pageB.goto(`/t/${b.team.slug}/settings`);
  await forgeTeam(pageB, "invite-form", a.team.slug);
  await pageB.getByTestId("invite-form").getByLabel("Invite by email").fill(b.email);
  await pageB.getByTestId("invite-form").getByRole("button", { name: "Invite" }).click();
  await expect(pageB.getByText("Team not found.")).toBeVisible();

  await pageB.goto(`/t/${b.team.slug}/settings`);
  await forgeTeam(pageB, "create-token-form", a.team.slug);
  await pageB.getByTestId("create-token-form").getByLabel("Token name").fill("stolen");
  await pageB.getByTestId("create-token-form").getByRole("button", { name: "Create token" }).click();
  await expect(pageB.getByText("Team not found.")).toBeVisible();
  await expect(pageB.getByTestId("new-token")).toHaveCount(0);

  // API: B's token only ever sees B's team.
  const tokenB = createToken(b.email, b.team.slug);
  const res = await request.get("/api/v1/team", { headers: { Authorization: `Bearer ${tokenB}` } });
  const body = await res.json();
  expect(body.team.slug).toBe(b.team.slug);
  expect(JSON.stringify(body)).not.toContain(a.email);

  // A still has everything, and nothing of B's attempts landed in A's team.
  const pageA = await (await browser.newContext()).newPage();
  await signIn(pageA, a.email);
  await pageA.goto(`/t/${a.team.slug}/settings`);
  await expect(pageA.getByTestId("members-table")).toContainText(a.email);
  await expect(pageA.getByTestId("members-table")).not.toContainText(b.email);
  await pageA.goto(`/t/${a.team.slug}/activity`);
  await expect(pageA.getByTestId("activity-table")).not.toContainText(b.email);
  await expect(pageA.getByTestId("activity-table")).not.toContainText("created an API token");
});

/** Rewrites the hidden `team` field of a form, as an attacker posting by hand would. */
async function forgeTeam(page: Page, formTestId: string, slug: string) {
  await page.getByTestId(formTestId).locator('input[name="team"]').evaluate((el, value) => {
    (el as HTMLInputElement).value = value;
  }, slug);
}
