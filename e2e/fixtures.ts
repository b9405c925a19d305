import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { expect, type Browser, type Page } from "@playwright/test";
import fs from "node:fs";
import { freePort } from "../lib/testing/registries/ports";
import { e2eEnv, e2eProvider } from "../playwright.config";

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

/** Moves a token's expiry into the past, in the e2e server's database (test-only time travel). */
export function backdateTokenExpiry(teamSlug: string, tokenName: string) {
  execFileSync("npx", ["tsx", "--require", "./lib/ops/server-only-shim.cjs", "e2e/support/backdate-token-expiry.ts", teamSlug, tokenName], {
    cwd: root,
    env: { ...process.env, ...e2eEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/**
 * Invites `email` to the team from the owner's signed-in page (Settings →
 * Members), then signs the invitee in, in a fresh browser context, and accepts.
 * Nobody joins a team without accepting. Returns the invitee's signed-in page.
 */
export async function inviteAndAccept(browser: Browser, ownerPage: Page, teamSlug: string, email: string, role: "member" | "admin" | "owner") {
  await ownerPage.goto(`/t/${teamSlug}/settings`);
  const form = ownerPage.getByTestId("invite-form");
  await form.getByLabel("Invite by email").fill(email);
  await form.getByLabel("Role").selectOption(role);
  await form.getByRole("button", { name: "Invite" }).click();
  await expect(ownerPage.getByText(`Invitation created for ${email}.`)).toBeVisible();

  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, email);
  await page.goto("/invitations");
  await page.getByTestId(`invitation-${teamSlug}`).getByRole("button", { name: "Accept" }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${teamSlug}/apps$`));
  return page;
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

/**
 * Everything the e2e server's database stores, as bytes: the SQLite file, or a
 * pg_dump of the PostgreSQL database (the cluster's own pg_dump). For the tests
 * that check a secret never reaches the database in the clear.
 */
export function databaseBytes(): Buffer {
  if (e2eProvider === "sqlite") {
    // WAL mode: recent writes are in the -wal file until a checkpoint copies them into the main file.
    const file = e2eEnv.DATABASE_URL.replace(/^file:/, "");
    return Buffer.concat([file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
  }
  const bin = process.env.GANTRY_TEST_PG_BIN;
  if (!bin) throw new Error("GANTRY_TEST_PG_BIN is not set: run the PostgreSQL suite through lib/ops/postgres-cluster.sh");
  return execFileSync(path.join(bin, "pg_dump"), ["--data-only", "--dbname", e2eEnv.DATABASE_URL], { maxBuffer: 256 * 1024 * 1024 });
}

export interface Replica {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Everything it printed. */
  log: string;
  /** SIGTERM (pending pull records are written), SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/**
 * A second Gantry server ("replica B") next to the e2e webServer (replica A):
 * the production server (lib/server/main.ts, what `npm run serve` runs) with
 * the same environment — same database, AUTH_SECRET and GANTRY_KEKS — but its
 * own free port and its own data directory, as README "PostgreSQL and several
 * replicas" describes. Resolves once its /readyz answers 200. Only meaningful
 * on PostgreSQL (the e2e server's SQLite file is not shared).
 */
export async function startReplica(name: string): Promise<Replica> {
  const port = await freePort();
  const dataDir = `${e2eEnv.GANTRY_DATA_DIR}-${name}`;
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const log = path.join(root, "test-results", `e2e-server-${name}${e2eProvider === "postgresql" ? "-postgres" : ""}.log`);
  const out = fs.openSync(log, "w");
  // node itself (not npm/tsx wrappers), so the child's pid is the server's and a signal reaches it.
  const child = spawn(process.execPath, ["--import", "tsx", "--require", "./lib/ops/server-only-shim.cjs", "lib/server/main.ts"], {
    cwd: root,
    // Its own registry port would clash with A's and its embedded storage would not be A's (replicas share a
    // GANTRY_REGISTRY_BACKEND): B runs without Gantry's registry, which these tests do not use.
    env: { ...process.env, ...e2eEnv, PORT: String(port), GANTRY_DATA_DIR: dataDir, NODE_ENV: "production", GANTRY_REGISTRY: "off" },
    stdio: ["ignore", out, out],
  });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const kill = () => void (child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"));
  process.once("exit", kill); // never outlive the test worker
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`replica ${name} exited with ${child.exitCode} at start:\n${fs.readFileSync(log, "utf8").slice(-4000)}`);
    const status = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      async (r) => (await r.arrayBuffer(), r.status),
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) {
      kill();
      throw new Error(`replica ${name}: /readyz did not answer 200 within 60 s (last: ${status}):\n${fs.readFileSync(log, "utf8").slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    port,
    log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(kill, 5000);
        await exited;
        clearTimeout(timer);
      }
      process.off("exit", kill);
    },
  };
}
