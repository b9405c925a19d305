import { expect, test } from "./test";
import { seedOwner, signIn } from "./fixtures";

test.use({ viewport: { width: 390, height: 844 } });

test("at 390 px the navigation is collapsed behind a menu button that opens, navigates and works with the keyboard", async ({ page }) => {
  const owner = seedOwner("mobile-nav");
  await signIn(page, owner.email);
  const toggle = page.getByRole("button", { name: "Open menu" });
  const nav = page.getByRole("navigation", { name: "Main" });

  // Collapsed: only the top bar, and the content starts right below it.
  await expect(toggle).toBeVisible();
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await expect(nav).toBeHidden();
  const heading = await page.getByRole("heading", { level: 1 }).boundingBox();
  expect(heading?.y ?? 999).toBeLessThan(200);
  // Nothing is wider than the screen.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

  // Open with a tap and follow a link: the page changes and the menu closes.
  await toggle.click();
  await expect(page.getByRole("button", { name: "Close menu" })).toHaveAttribute("aria-expanded", "true");
  await expect(nav).toBeVisible();
  await nav.getByRole("link", { name: "Registries" }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${owner.team.slug}/registries$`));
  await expect(nav).toBeHidden();
  await expect(page.getByRole("button", { name: "Open menu" })).toHaveAttribute("aria-expanded", "false");

  // Keyboard: Enter opens, Tab reaches the links, Escape closes and returns focus to the button.
  await page.getByRole("button", { name: "Open menu" }).focus();
  await page.keyboard.press("Enter");
  await expect(nav).toBeVisible();
  const activity = nav.getByRole("link", { name: "Activity" });
  for (let i = 0; i < 10 && !(await activity.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press("Tab");
  await expect(activity).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(nav).toBeHidden();
  await expect(page.getByRole("button", { name: "Open menu" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(nav).toBeVisible();
  await nav.getByRole("link", { name: "Activity" }).press("Enter");
  await expect(page).toHaveURL(new RegExp(`/t/${owner.team.slug}/activity$`));
  await expect(nav).toBeHidden();
});

test("at 1366 px the sidebar is always shown and its background spans a long page", async ({ page }) => {
  await page.setViewportSize({ width: 1366, height: 500 });
  const owner = seedOwner("desktop-nav");
  await signIn(page, owner.email);
  await page.goto(`/t/${owner.team.slug}/settings`);
  await expect(page.getByRole("button", { name: "Open menu" })).toBeHidden();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  // The page streams in after its loading state: measure once its last section is there.
  await expect(page.getByTestId("invite-form")).toBeVisible();
  await expect(page.getByRole("heading", { name: "API tokens" })).toBeVisible();
  const sidebar = await page.getByTestId("sidebar").boundingBox();
  const pageHeight = await page.evaluate(() => document.documentElement.scrollHeight);
  expect(pageHeight).toBeGreaterThan(500);
  expect(Math.round((sidebar?.y ?? 0) + (sidebar?.height ?? 0))).toBeGreaterThanOrEqual(pageHeight - 1);
});
