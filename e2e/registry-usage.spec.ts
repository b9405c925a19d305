import { execFile, execFileSync } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import { expect, test, type Page } from "./test";
import { e2eEnv, e2eRegistryHost } from "../playwright.config";
import { buildImage, cleanupImages } from "../lib/testing/registries/images";
import { createToken, seedOwner, signIn } from "./fixtures";

/**
 * The registry quota in the portal: the team's usage in Gantry's own registry
 * against GANTRY_REGISTRY_TEAM_QUOTA_BYTES (50 GiB in this run), on the app's
 * Registry tab and in team Settings: empty, after a real push, near the quota
 * and at it, at 1366 and 390 px.
 */
const run = promisify(execFile);
const GiB = 2 ** 30;
const digestOf = (s: string) => `sha256:${crypto.createHash("sha256").update(s).digest("hex")}`;

function seedUsage(slug: string, blobs: { digest: string; size: number }[]) {
  execFileSync("npx", ["tsx", "--require", "./lib/ops/server-only-shim.cjs", "e2e/support/seed-registry-usage.ts", slug, JSON.stringify(blobs)], {
    cwd: path.resolve(__dirname, ".."),
    env: { ...process.env, ...e2eEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

async function noHorizontalScroll(page: Page) {
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(page.viewportSize()?.width ?? 0);
}

test.afterAll(() => cleanupImages());

test("usage against the quota on the Registry tab and in Settings: empty, after a push, near and at the quota, at 1366 and 390 px", async ({ page, request }) => {
  test.setTimeout(180_000);
  const owner = seedOwner("regquota", "Registry quota");
  const token = createToken(owner.email, owner.team.slug, "quota-bot");
  const slug = `regquota-${Date.now().toString(36)}${crypto.randomBytes(2).toString("hex")}`;
  expect((await request.post("/api/v1/apps", { headers: { Authorization: `Bearer ${token}` }, data: { name: "Quota App", slug } })).status()).toBe(201);
  const tab = `/t/${owner.team.slug}/apps/${slug}/registry`;
  const settings = `/t/${owner.team.slug}/settings`;
  const card = page.getByTestId("registry-usage");

  await page.setViewportSize({ width: 1366, height: 900 });
  await signIn(page, owner.email);
  for (const url of [tab, settings]) {
    await page.goto(url);
    await expect(card.getByTestId("registry-usage-used")).toHaveText("0 B");
    await expect(card.getByTestId("registry-usage-quota")).toHaveText("of 50 GiB quota");
    await expect(card.getByTestId("registry-usage-detail")).toHaveText("Nothing stored yet.");
    await expect(card.getByRole("meter")).toHaveAttribute("aria-valuenow", "0");
  }

  // A real push counts: manifest, config and layer, shown in the units people read.
  const image = await buildImage({ files: { "quota.txt": `counted ${slug}\n` }, randomBytes: 3 * 2 ** 20 });
  await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", `${token}:${token}`, `oci:${image.layoutDir}:${image.tag}`, `docker://${e2eRegistryHost}/${slug}/api:1.0`]);
  await page.goto(tab);
  await expect(card.getByTestId("registry-usage-used")).toHaveText("3 MiB");
  await expect(card.getByTestId("registry-usage-detail")).toHaveText("Under 0.1% used; 49.9 GiB left.");

  // Near the quota (46 GiB more): amber, with what is left.
  seedUsage(slug, [
    { digest: digestOf(`${slug} a`), size: 40 * GiB },
    { digest: digestOf(`${slug} b`), size: 6 * GiB },
  ]);
  for (const url of [tab, settings]) {
    await page.goto(url);
    await expect(card.getByTestId("registry-usage-used")).toHaveText("46 GiB");
    await expect(card.getByRole("meter")).toHaveAttribute("aria-valuenow", "92");
    await expect(card.getByTestId("registry-usage-detail")).toHaveText("92% used; 3.9 GiB left.");
  }

  // At 390 px both pages fit the screen, the card included.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const url of [tab, settings]) {
    await page.goto(url);
    await expect(card).toBeVisible();
    const box = await card.boundingBox();
    expect((box?.x ?? 0) + (box?.width ?? 999)).toBeLessThanOrEqual(390);
    await noHorizontalScroll(page);
  }

  // At the quota: the card says pushes are refused and what to do; a push is refused with the same reason.
  seedUsage(slug, [{ digest: digestOf(`${slug} c`), size: 4 * GiB }]);
  await page.goto(tab);
  await expect(card.getByRole("meter")).toHaveAttribute("aria-valuenow", "100");
  await expect(card.getByTestId("registry-usage-detail")).toContainText("The quota is used up: pushes are refused.");
  const refused = await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", `${token}:${token}`, `oci:${(await buildImage({ files: { "over.txt": `over ${slug}\n` } })).layoutDir}:latest`, `docker://${e2eRegistryHost}/${slug}/api:2.0`]).then(
    () => "",
    (e: { stderr?: string }) => e.stderr ?? "",
  );
  expect(refused).toContain("would exceed your team's registry quota of 50 GiB");
  await noHorizontalScroll(page);
});
