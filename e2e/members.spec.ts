import { expect, test } from "./test";
import { seedOwner, signIn, signOut, uniqueEmail } from "./fixtures";

test("an owner invites a second user, who sees the invitation after signing in, accepts and sees the team", async ({ page }) => {
  const owner = seedOwner("inviter", "Invite Co");
  const invitee = seedOwner("invitee", "Invitee Own Team");

  await signIn(page, owner.email);
  await page.goto(`/t/${owner.team.slug}/settings`);
  await expect(page.getByTestId("no-invitations")).toBeVisible();
  const invite = page.getByTestId("invite-form");
  await invite.getByLabel("Invite by email").fill(invitee.email);
  await invite.getByLabel("Role").selectOption("member");
  await invite.getByRole("button", { name: "Invite" }).click();
  await expect(page.getByText(`Invitation created for ${invitee.email}. They will see it after signing in or signing up with this email.`)).toBeVisible();
  // Pending, not a member yet.
  await expect(page.getByTestId(`invitation-${invitee.email}`)).toContainText("member");
  await expect(page.getByTestId(`member-${invitee.email}`)).toHaveCount(0);

  // An email without an account gets the very same answer, and can be cancelled.
  const nobody = uniqueEmail("nobody-here");
  await invite.getByLabel("Invite by email").fill(nobody);
  await invite.getByRole("button", { name: "Invite" }).click();
  await expect(page.getByText(`Invitation created for ${nobody}. They will see it after signing in or signing up with this email.`)).toBeVisible();
  await page.getByRole("button", { name: `Cancel invitation of ${nobody}` }).click();
  await expect(page.getByTestId(`invitation-${nobody}`)).toHaveCount(0);

  // A bad email is a field error.
  await invite.getByLabel("Invite by email").fill("not-an-email");
  await invite.getByRole("button", { name: "Invite" }).click();
  await expect(page.getByText("Enter a valid email address.")).toBeVisible();
  await signOut(page);

  // The invitee signs in to their own team, is told about the invitation, and accepts.
  await signIn(page, invitee.email);
  await expect(page.getByTestId("current-team")).toHaveText("Invitee Own Team");
  await expect(page.getByTestId("invitations-banner")).toBeVisible();
  expect((await page.goto(`/t/${owner.team.slug}/apps`))?.status()).toBe(404); // not a member before accepting
  await page.goto(`/t/${invitee.team.slug}/apps`);
  await page.getByRole("link", { name: "Review invitations" }).click();
  await expect(page).toHaveURL(/\/invitations$/);
  const card = page.getByTestId(`invitation-${owner.team.slug}`);
  await expect(card).toContainText("Invite Co");
  await expect(card).toContainText(`${owner.email} invited you as member`);
  await card.getByRole("button", { name: "Accept" }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${owner.team.slug}/apps$`));
  await expect(page.getByTestId("current-team")).toHaveText("Invite Co");
  await expect(page.getByTestId("invitations-banner")).toHaveCount(0);

  // A member sees the members list but no management controls.
  await page.goto(`/t/${owner.team.slug}/settings`);
  await expect(page.getByTestId("members-table")).toContainText(owner.email);
  await expect(page.getByTestId("members-table")).toContainText(invitee.email);
  await expect(page.getByTestId("invite-form")).toHaveCount(0);
  await expect(page.getByTestId("invitations-table")).toHaveCount(0);
  await expect(page.getByTestId("create-token-form")).toHaveCount(0);

  // Nothing left to answer.
  await page.goto("/invitations");
  await expect(page.getByText("No pending invitations")).toBeVisible();
});

test("a declined invitation is gone and grants nothing; the pages fit a 390 px screen", async ({ browser }) => {
  const owner = seedOwner("decliner-owner", "Decline Co");
  const invitee = seedOwner("decliner", "Decliner Own Team");
  const ownerPage = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await signIn(ownerPage, owner.email);
  await ownerPage.goto(`/t/${owner.team.slug}/settings`);
  await ownerPage.getByTestId("invite-form").getByLabel("Invite by email").fill(invitee.email);
  await ownerPage.getByTestId("invite-form").getByRole("button", { name: "Invite" }).click();
  await expect(ownerPage.getByTestId(`invitation-${invitee.email}`)).toBeVisible();
  expect(await ownerPage.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

  const page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await signIn(page, invitee.email);
  await page.goto("/invitations");
  const card = page.getByTestId(`invitation-${owner.team.slug}`);
  await expect(card.getByRole("button", { name: "Accept" })).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await card.getByRole("button", { name: "Decline" }).click();
  await expect(card).toHaveCount(0);
  await expect(page.getByText("No pending invitations")).toBeVisible();
  expect((await page.goto(`/t/${owner.team.slug}/apps`))?.status()).toBe(404);

  await ownerPage.reload();
  await expect(ownerPage.getByTestId(`invitation-${invitee.email}`)).toHaveCount(0);
  await ownerPage.goto(`/t/${owner.team.slug}/activity`);
  await expect(ownerPage.getByTestId("activity-table")).toContainText("declined an invitation");
});
