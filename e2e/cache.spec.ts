import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, test, type Page } from "./test";
import { startRegistry, stopAll, type RunningRegistry } from "../lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "../lib/testing/registries/images";
import { e2eHost } from "../playwright.config";
import { createToken, gantryCli, seedOwner, signIn } from "./fixtures";

const run = promisify(execFile);
let registry: RunningRegistry;

test.beforeAll(async () => {
  registry = await startRegistry({ auth: "htpasswd", users: { vendor: "vendor-secret-pw" } });
  await pushImage(await buildImage({ files: { "cache.txt": "cached\n" }, randomBytes: 64 * 1024 }), { registry, repo: "acme/cached", tag: "1.0", creds: "vendor:vendor-secret-pw" });
});
test.afterAll(async () => {
  await stopAll();
  cleanupImages();
});

async function noHorizontalScroll(page: Page) {
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
}

test("before any pull the Cache page explains itself, fits 390 px, and another team's cache is not found", async ({ browser, page }) => {
  const a = seedOwner("cache-a", "Cache Tenant A");
  const b = seedOwner("cache-b", "Cache Tenant B");

  await page.setViewportSize({ width: 1366, height: 900 });
  await signIn(page, a.email);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Cache" }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${a.team.slug}/cache$`));
  await expect(page.getByRole("heading", { name: "Cache", level: 1 })).toBeVisible();
  await expect(page.getByText("No cache traffic yet")).toBeVisible();
  await expect(page.getByText(`docker pull ${e2eHost}/proxy/`)).toBeVisible();
  await expect(page.getByText(/Cache size limit: 20 GiB/)).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Cache" })).toHaveAttribute("aria-current", "page");

  const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await signIn(phone, a.email);
  await phone.goto(`/t/${a.team.slug}/cache`);
  await expect(phone.getByText("No cache traffic yet")).toBeVisible();
  await noHorizontalScroll(phone);

  // B is signed in but not in A's team: A's cache page does not exist for B.
  const pageB = await (await browser.newContext()).newPage();
  await signIn(pageB, b.email);
  for (const url of [`/t/${a.team.slug}/cache`, `/t/${a.team.slug}/cache?range=48h`]) {
    const res = await pageB.goto(url);
    expect(res?.status(), url).toBe(404);
    await expect(pageB.getByText("Not found", { exact: true })).toBeVisible();
    await expect(pageB.locator("body")).not.toContainText("Cache Tenant A");
  }
  // An unknown range is the default, not an error.
  const own = await pageB.goto(`/t/${b.team.slug}/cache?range=1y`);
  expect(own?.status()).toBe(200);
  await expect(pageB.getByText("No cache traffic yet")).toBeVisible();
});

/**
 * Needs the cache core (lib/cache/store, fill, usage and the proxy's use of
 * them): a cold pull fills the cache (misses), a warm pull is served from it
 * (hits), and the page and the CLI show it.
 */
test("a cold pull misses and a warm pull hits: the page shows the hit ratio, the chart and the app, for this team only", async ({ browser, page, request }) => {
  test.setTimeout(120_000);
  const owner = seedOwner("cache-pull", "Cache Pulls");
  const other = seedOwner("cache-other", "Cache Other");
  const token = createToken(owner.email, owner.team.slug);
  const auth = { Authorization: `Bearer ${token}` };
  const slug = `cache-${Date.now().toString(36)}`;

  expect((await request.post("/api/v1/registries", { headers: auth, data: { name: "Private", endpoint: registry.url, username: "vendor", password: "vendor-secret-pw" } })).status()).toBe(201);
  expect((await request.post("/api/v1/apps", { headers: auth, data: { name: "Cached App", slug } })).status()).toBe(201);
  const created = await request.post(`/api/v1/apps/${slug}/customers`, { headers: auth, data: { name: "Initech" } });
  expect(created.status()).toBe(201);
  const licenseId = ((await created.json()) as { license: { licenseId: string } }).license.licenseId;
  const repo = `127.0.0.1_${registry.port}/acme/cached`;
  expect((await request.patch(`/api/v1/apps/${slug}`, { headers: auth, data: { extraPatterns: [repo] } })).status()).toBe(200);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-cache-e2e-"));
  const pull = (into: string) =>
    run("skopeo", ["copy", "--src-tls-verify=false", "--src-creds", `LICENSE_ID:${licenseId}`, `docker://${e2eHost}/proxy/${slug}/${repo}:1.0`, `oci:${path.join(dir, into)}:1.0`]);
  await pull("cold");
  await pull("warm");

  await page.setViewportSize({ width: 1366, height: 900 });
  await signIn(page, owner.email);
  // Cache counters are written in batches (every 2 s): reload until they are in.
  await expect(async () => {
    await page.goto(`/t/${owner.team.slug}/cache`);
    await expect(page.getByText("No cache traffic yet")).toHaveCount(0, { timeout: 500 });
    await expect(page.getByTestId("cache-hit-ratio-value")).toHaveText(/^\d/, { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  const ratio = Number.parseFloat((await page.getByTestId("cache-hit-ratio-value").textContent()) ?? "");
  expect(ratio).toBeGreaterThan(0); // the warm pull's layers came from disk
  expect(ratio).toBeLessThan(100); // the cold pull's came from the registry
  await expect(page.getByTestId("cache-stored-value")).not.toHaveText("0 B");
  await expect(page.getByTestId("cache-bytes-value")).not.toHaveText("0 B");
  await expect(page.getByTestId("cache-chart").locator(".recharts-bar-rectangle").first()).toBeVisible();
  await expect(page.getByTestId("cache-apps-table").locator(`[data-app="${slug}"]`)).toContainText("Cached App");
  await page.getByRole("tab", { name: "48 hours" }).click();
  await expect(page).toHaveURL(/range=48h$/);
  await expect(page.getByTestId("cache-chart").locator(".recharts-bar-rectangle").first()).toBeVisible();

  const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await signIn(phone, owner.email);
  await phone.goto(`/t/${owner.team.slug}/cache`);
  await expect(phone.getByTestId("cache-chart").locator(".recharts-bar-rectangle").first()).toBeVisible();
  await noHorizontalScroll(phone);

  // Another team sees none of it: its own page stays empty, and this one is not found.
  const otherPage = await (await browser.newContext()).newPage();
  await signIn(otherPage, other.email);
  await otherPage.goto(`/t/${other.team.slug}/cache`);
  await expect(otherPage.getByText("No cache traffic yet")).toBeVisible();
  expect((await otherPage.goto(`/t/${owner.team.slug}/cache`))?.status()).toBe(404);

  // The operator's CLI agrees, and purging the app empties its share.
  const stats = JSON.parse(gantryCli(["cache", "stats"]).at(-1) ?? "{}") as { usage: { hits: number }; disk: { files: number } };
  expect(stats.usage.hits).toBeGreaterThan(0);
  expect(stats.disk.files).toBeGreaterThan(0);
  const purged = JSON.parse(gantryCli(["cache", "purge", "--app", slug]).at(-1) ?? "{}") as { links: number; bytesFreed: number };
  expect(purged.links).toBeGreaterThan(0);
  expect(purged.bytesFreed).toBeGreaterThan(0);
  // The content is gone; the traffic history stays.
  await page.reload();
  await expect(page.getByTestId("cache-stored-value")).toHaveText("0 B");
  await expect(page.getByText("No cache traffic yet")).toHaveCount(0);
  fs.rmSync(dir, { recursive: true, force: true });
});
