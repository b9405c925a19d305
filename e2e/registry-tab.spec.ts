import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { expect, test, type APIRequestContext, type Page } from "./test";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { e2eEnv, e2eRegistryHost, e2eRegistryPortHost } from "../playwright.config";
import { buildImage, cleanupImages } from "../lib/testing/registries/images";
import { createToken, inviteAndAccept, seedOwner, signIn } from "./fixtures";

/**
 * The app's Registry tab: what was pushed to Gantry's own registry (seeded as
 * the registry records it, e2e/support/seed-registry-tags.ts), the commands to
 * push, deleting a tag (owners and admins, behind a confirmation), and the
 * layout at 390 px.
 */

// The registry's public host in the e2e run (GANTRY_REGISTRY_URL in e2eEnv).
const registryHost = e2eRegistryHost;

const digestOf = (s: string) => `sha256:${crypto.createHash("sha256").update(s).digest("hex")}`;
const LONG_TAG = "1.0.0-rc.1-build.20261124012345678901234567890-linux-amd64-abcdef0123456789";
const LONG_REPO = "tools/a-rather-long-repository-name-for-the-command-line-interface";

function seedRegistryTags(slug: string, pushes: { repository: string; tag: string; digest: string; totalSize: number; pushedBy: string; pushedAt?: string }[]) {
  execFileSync("npx", ["tsx", "--require", "./lib/ops/server-only-shim.cjs", "e2e/support/seed-registry-tags.ts", slug, JSON.stringify(pushes)], {
    cwd: path.resolve(__dirname, ".."),
    env: { ...process.env, ...e2eEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** A team with an app, through the API; returns the owner and the app's slug. */
async function ownerWithApp(request: APIRequestContext, tag: string) {
  const owner = seedOwner(tag, `Registry ${tag}`);
  const auth = { Authorization: `Bearer ${createToken(owner.email, owner.team.slug)}` };
  const slug = `${tag}-${Date.now().toString(36)}${crypto.randomBytes(2).toString("hex")}`;
  expect((await request.post("/api/v1/apps", { headers: auth, data: { name: `App ${tag}`, slug } })).status()).toBe(201);
  return { owner, slug };
}

async function noHorizontalScroll(page: Page) {
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(page.viewportSize()?.width ?? 0);
}

async function expectCommands(page: Page, slug: string, email: string, verb: "push" | "pull") {
  await expect(page.getByTestId("registry-not-exposed")).toHaveCount(0);
  const snippet = page.getByTestId("registry-snippet");
  await expect(snippet).toContainText(`docker login ${registryHost} -u ${email}`);
  await expect(snippet).toContainText(`docker ${verb} ${registryHost}/${slug}/my-image:1.0`);
}

test("the owner sees pushed tags with size, digest and pusher, the commands, and deletes a tag after confirming", async ({ page, request }) => {
  test.setTimeout(120_000); // accounts and rows are seeded through the CLI and tsx
  const { owner, slug } = await ownerWithApp(request, "regtab");
  seedRegistryTags(slug, [
    { repository: "api", tag: "1.0", digest: digestOf("api 1.0"), totalSize: 1536, pushedBy: `user:${owner.email}`, pushedAt: "2026-11-20T10:00:00Z" },
    { repository: "api", tag: "2.0", digest: digestOf("api 2.0"), totalSize: 5 * 2 ** 30, pushedBy: "token:ci-release", pushedAt: "2026-11-21T10:00:00Z" },
    { repository: LONG_REPO, tag: LONG_TAG, digest: digestOf("cli"), totalSize: 42, pushedBy: "token:ci-release" },
  ]);
  await page.setViewportSize({ width: 1366, height: 900 });
  await signIn(page, owner.email);
  await page.goto(`/t/${owner.team.slug}/apps/${slug}`);
  await page.getByRole("link", { name: "Registry", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/apps/${slug}/registry$`));
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Registry of App regtab`);

  const api = page.locator('[data-testid="registry-repository"][data-repository="api"]');
  const rows = api.getByTestId("registry-tag");
  await expect(rows).toHaveCount(2);
  // Newest push first.
  await expect(rows.nth(0)).toHaveAttribute("data-tag", "2.0");
  const v2 = api.locator('[data-tag="2.0"]');
  await expect(v2.getByTestId("tag-size")).toHaveText("5 GiB");
  await expect(v2).toContainText("ci-release");
  const digest = v2.getByTestId("digest").last();
  await expect(digest).toHaveText(digestOf("api 2.0").slice(0, "sha256:".length + 12));
  await expect(digest).toHaveAttribute("title", digestOf("api 2.0"));
  const v1 = api.locator('[data-tag="1.0"]');
  await expect(v1.getByTestId("tag-size")).toHaveText("1.5 KiB");
  await expect(v1).toContainText(owner.email);

  // The digest and the commands copy to the clipboard.
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await v2.getByRole("button", { name: "Copy the digest of api:2.0" }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(digestOf("api 2.0"));
  await expectCommands(page, slug, owner.email, "push");
  await page.getByRole("button", { name: "Copy the commands" }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toContain(`docker push ${registryHost}/${slug}/my-image:1.0`);

  // Delete asks first, naming the tag; Cancel keeps it.
  await v1.getByRole("button", { name: "Delete tag api:1.0" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByRole("heading")).toHaveText("Delete tag api:1.0?");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(rows).toHaveCount(2);
  await v1.getByRole("button", { name: "Delete tag api:1.0" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete tag" }).click();
  await expect(page.getByText("Deleted the tag api:1.0.")).toBeVisible();
  await expect(rows).toHaveCount(1);
  await expect(rows.nth(0)).toHaveAttribute("data-tag", "2.0");
  await page.reload();
  await expect(api.getByTestId("registry-tag")).toHaveCount(1);

  await page.goto(`/t/${owner.team.slug}/activity`);
  await expect(page.getByTestId("activity-table")).toContainText("deleted an image tag");
  await expect(page.getByTestId("activity-table")).toContainText("tag: 1.0");
});

test("a member sees the tags without a delete button; another team's app is not found; 390 px has no horizontal scroll", async ({ browser, page, request }) => {
  test.setTimeout(120_000); // four accounts through the CLI, three sign-ins
  const { owner, slug } = await ownerWithApp(request, "regmem");
  seedRegistryTags(slug, [
    { repository: "api", tag: "1.0", digest: digestOf("member api"), totalSize: 3 * 2 ** 20, pushedBy: `user:${owner.email}` },
    { repository: LONG_REPO, tag: LONG_TAG, digest: digestOf("member cli"), totalSize: 42, pushedBy: "token:a-token-with-a-rather-long-name-too" },
  ]);
  await signIn(page, owner.email);
  const memberEmail = seedOwner("regmem-member").email;
  const member = await inviteAndAccept(browser, page, owner.team.slug, memberEmail, "member");
  await member.setViewportSize({ width: 390, height: 844 });
  await member.goto(`/t/${owner.team.slug}/apps/${slug}/registry`);
  await expect(member.getByTestId("registry-tag")).toHaveCount(2);
  await expect(member.locator('[data-tag="1.0"]')).toContainText("3 MiB");
  await expect(member.getByRole("button", { name: /^Delete tag/ })).toHaveCount(0);
  await expectCommands(member, slug, memberEmail, "pull");
  await noHorizontalScroll(member);
  // The long tag wraps inside the screen.
  const long = await member.locator(`[data-tag="${LONG_TAG}"]`).boundingBox();
  expect((long?.x ?? 0) + (long?.width ?? 999)).toBeLessThanOrEqual(390);

  // The owner at 390 px: the delete button and its dialog fit too.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`/t/${owner.team.slug}/apps/${slug}/registry`);
  await expect(page.getByRole("button", { name: `Delete tag ${LONG_REPO}:${LONG_TAG}` })).toBeVisible();
  await noHorizontalScroll(page);
  await page.getByRole("button", { name: `Delete tag ${LONG_REPO}:${LONG_TAG}` }).click();
  const dialog = await page.getByRole("dialog").boundingBox();
  expect((dialog?.x ?? 0) + (dialog?.width ?? 999)).toBeLessThanOrEqual(390);
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();

  const stranger = seedOwner("regtab-other", "Registry Stranger");
  const other = await (await browser.newContext()).newPage();
  await signIn(other, stranger.email);
  const res = await other.goto(`/t/${owner.team.slug}/apps/${slug}/registry`);
  expect(res?.status()).toBe(404);
  await expect(other.locator("body")).not.toContainText("App regmem");
});

test("an app with no images shows the commands prominently", async ({ page, request }) => {
  const { owner, slug } = await ownerWithApp(request, "regempty");
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, owner.email);
  await page.goto(`/t/${owner.team.slug}/apps/${slug}/registry`);
  await expect(page.getByText("No images or charts yet")).toBeVisible();
  await expectCommands(page, slug, owner.email, "push");
  await noHorizontalScroll(page);
});

const run = promisify(execFile);

test.afterAll(() => cleanupImages());

test("a vendor pushes with skopeo to the running server's registry, the tab shows it, a customer pulls it with a license on the registry's own port, and a deleted tag is gone", async ({ page, request }) => {
  test.setTimeout(180_000);
  const owner = seedOwner("regpush", "Registry push");
  const token = createToken(owner.email, owner.team.slug, "release-bot");
  const auth = { Authorization: `Bearer ${token}` };
  const slug = `regpush-${Date.now().toString(36)}${crypto.randomBytes(2).toString("hex")}`;
  expect((await request.post("/api/v1/apps", { headers: auth, data: { name: "Pushed App", slug } })).status()).toBe(201);

  // Push by host name (localhost on the main port): Gantry routes it to its registry, stored by distribution.
  const image = await buildImage({ files: { "e2e.txt": `pushed through Gantry ${slug}\n` } });
  await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", `${token}:${token}`, `oci:${image.layoutDir}:${image.tag}`, `docker://${registryHost}/${slug}/api:1.0`]);

  // A release lists the image, so the app's licenses may pull it; the preview calls it "vendor registry".
  const release = await request.post(`/api/v1/apps/${slug}/releases`, { headers: auth, data: { version: "1.0.0", images: [`${registryHost}/${slug}/api:1.0`] } });
  expect(release.status()).toBe(201);
  expect((await release.json()).release.images[0]).toMatchObject({ status: "vendor_registry" });
  const customer = await request.post(`/api/v1/apps/${slug}/customers`, { headers: auth, data: { name: "Pulling customer" } });
  expect(customer.status()).toBe(201);
  const licenseId = (await customer.json()).license.licenseId as string;

  // The customer pulls on the registry's own port (GANTRY_REGISTRY_PORT) with the license.
  const inspect = async (ref: string) => JSON.parse((await run("skopeo", ["inspect", "--tls-verify=false", "--creds", `LICENSE_ID:${licenseId}`, ref])).stdout) as { Digest: string };
  const pulled = await inspect(`docker://${e2eRegistryPortHost}/${slug}/api:1.0`);
  expect(pulled.Digest).toMatch(/^sha256:[a-f0-9]{64}$/);

  // The tab shows what was pushed, by whom.
  await signIn(page, owner.email);
  await page.goto(`/t/${owner.team.slug}/apps/${slug}/registry`);
  const row = page.locator('[data-testid="registry-repository"][data-repository="api"] [data-tag="1.0"]');
  await expect(row).toContainText("release-bot");
  await expect(row.getByTestId("digest").last()).toHaveAttribute("title", pulled.Digest);

  // Deleting the tag in the portal: the next pull of it is refused.
  await row.getByRole("button", { name: "Delete tag api:1.0" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete tag" }).click();
  await expect(page.getByText("Deleted the tag api:1.0.")).toBeVisible();
  const refused = await run("skopeo", ["inspect", "--tls-verify=false", "--creds", `LICENSE_ID:${licenseId}`, `docker://${e2eRegistryPortHost}/${slug}/api:1.0`]).then(
    () => "pulled",
    (e: { stderr?: string }) => String(e.stderr),
  );
  expect(refused).toMatch(/manifest unknown/i);
});
