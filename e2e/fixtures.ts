import { execFileSync } from "node:child_process";
import path from "node:path";
import { expect, type Page } from "@playwright/test";
import { e2eEnv } from "../playwright.config";

export const PASSWORD = "e2e-correct-horse-battery";
const root = path.resolve(__dirname, "..");

let counter = 0;
/** An email no other test (or worker, or run) uses. */
export function uniqueEmail(tag: string): string {
  return `${tag}-${process.pid}-${Date.now()}-${counter++}@e2e.example.com`;
}

/** Runs the operator CLI against the e2e server's database; returns stdout lines. */
export function gantryCli(args: string[]): string[] {
  const out = execFileSync("npm", ["run", "-s", "gantry", "--", ...args], {
    cwd: root,
    env: { ...process.env, ...e2eEnv },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return out.trim().split("\n");
}

/** Seeds a user who owns a team, through the app's own code (the CLI). */
export function seedOwner(tag: string, teamName = `Team ${tag} ${counter}`) {
  const email = uniqueEmail(tag);
  const [line] = gantryCli(["bootstrap", "--email", email, "--password", PASSWORD, "--team", teamName]);
  const summary = JSON.parse(line ?? "{}") as { team: { slug: string; name: string } };
  return { email, team: summary.team };
}

export function createToken(email: string, team: string, name = "e2e"): string {
  const lines = gantryCli(["create-token", "--email", email, "--team", team, "--name", name]);
  const token = lines.at(-1) ?? "";
  expect(token).toMatch(/^gnt_/);
  return token;
}

export async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/t\/[^/]+\/apps$/);
}

export async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
}
