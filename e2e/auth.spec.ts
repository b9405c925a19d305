import { expect, test } from "./test";
import { PASSWORD, seedOwner, signIn, signOut, uniqueEmail } from "./fixtures";

test("sign up, land in the new team, sign out, sign in again", async ({ page }) => {
  const email = uniqueEmail("signup");
  await page.goto("/sign-up");
  await page.getByLabel("Your name").fill("Ada Vendor");
  await page.getByLabel("Work email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Team name").fill("Ada Software");
  await page.getByRole("button", { name: "Create account" }).click();

  await expect(page).toHaveURL(/\/t\/ada-software[a-z0-9-]*\/apps$/);
  await expect(page.getByTestId("current-team")).toHaveText("Ada Software");
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const item of ["Apps", "Registries", "Customers", "Cache", "Activity", "Settings"]) {
    await expect(nav.getByRole("link", { name: item })).toBeVisible();
  }
  await expect(page.getByText("No apps yet")).toBeVisible();

  await nav.getByRole("link", { name: "Activity" }).click();
  await expect(page.getByTestId("activity-table")).toContainText("created the team");

  await signOut(page);
  await page.goto("/t/ada-software/apps");
  await expect(page).toHaveURL(/\/sign-in/);

  await signIn(page, email);
  await expect(page.getByTestId("current-team")).toHaveText("Ada Software");
});

test("a wrong password shows a clear error and keeps the user out", async ({ page }) => {
  const { email } = seedOwner("wrongpw");
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("form-error")).toHaveText("Wrong email or password.");
  await expect(page).toHaveURL(/\/sign-in/);
});

test("repeated failures lock the account with a 'try again later'", async ({ page }) => {
  const { email } = seedOwner("locked");
  for (let i = 0; i < 5; i++) {
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(`wrong-${i}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("form-error")).toHaveText("Wrong email or password.");
  }
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("form-error")).toContainText("Try again later");
  await expect(page).toHaveURL(/\/sign-in/);
});

test("a signed-out visit to a portal page redirects to sign-in", async ({ page }) => {
  const { team } = seedOwner("anon");
  for (const p of [`/t/${team.slug}/apps`, `/t/${team.slug}/settings`, "/teams/new", "/"]) {
    await page.goto(p);
    await expect(page).toHaveURL(/\/sign-in/);
  }
});

test("sign-up reports invalid fields next to the inputs", async ({ page }) => {
  await page.goto("/sign-up");
  await page.getByLabel("Work email").fill("not-an-email");
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("Enter a valid email address.")).toBeVisible();
  await expect(page.getByText("At least 10 characters.", { exact: true }).last()).toBeVisible();
  await expect(page.getByLabel("Work email")).toHaveAttribute("aria-invalid", "true");
});
