import { expect, test } from "@playwright/test";
import { seedOwner, signIn, signOut } from "./fixtures";

test("an owner invites a second user, who then sees the team and can switch to it", async ({ page }) => {
  const owner = seedOwner("inviter", "Invite Co");
  const invitee = seedOwner("invitee", "Invitee Own Team");

  await signIn(page, owner.email);
  await page.goto(`/t/${owner.team.slug}/settings`);
  const invite = page.getByTestId("invite-form");
  await invite.getByLabel("Add a member by email").fill(invitee.email);
  await invite.getByLabel("Role").selectOption("member");
  await invite.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByText(`Added ${invitee.email} as member.`)).toBeVisible();
  await expect(page.getByTestId(`member-${invitee.email}`)).toBeVisible();

  // Unknown emails get a clear field error.
  await invite.getByLabel("Add a member by email").fill("nobody-here@e2e.example.com");
  await invite.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByText(/No Gantry account uses this email/).first()).toBeVisible();
  await signOut(page);

  await signIn(page, invitee.email);
  await page.getByTestId("team-switcher").click();
  await page.getByRole("menuitem", { name: "Invite Co" }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${owner.team.slug}/apps$`));
  await expect(page.getByTestId("current-team")).toHaveText("Invite Co");

  // A member sees the members list but no management controls.
  await page.goto(`/t/${owner.team.slug}/settings`);
  await expect(page.getByTestId("members-table")).toContainText(owner.email);
  await expect(page.getByTestId("invite-form")).toHaveCount(0);
  await expect(page.getByTestId("create-token-form")).toHaveCount(0);
});
