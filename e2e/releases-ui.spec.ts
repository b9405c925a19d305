import fs from "node:fs";
import { expect, test } from "./test";
import { strFromU8, unzipSync } from "fflate";
import YAML from "yaml";
import { startRegistry, stopAll, type RunningRegistry } from "../lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "../lib/testing/registries/images";
import { e2eHost } from "../playwright.config";
import { createToken, seedOwner, signIn } from "./fixtures";

let registry: RunningRegistry;

test.beforeAll(async () => {
  registry = await startRegistry({ auth: "token", users: { bob: "bob-pw" } });
  const img = await buildImage({ files: { "releases-ui.txt": "release\n" } });
  await pushImage(img, { registry, repo: "private/api", tag: "1.0", creds: "bob:bob-pw" });
  await pushImage(img, { registry, repo: "public/tool", tag: "2.0", creds: "bob:bob-pw" });
});
test.afterAll(async () => {
  await stopAll();
  cleanupImages();
});

const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

test("create a release from manifests, see its images, download a customer's installer bundle, archive it and the pull stops", async ({ page }) => {
  const owner = seedOwner("releases-ui");
  const api = createToken(owner.email, owner.team.slug);
  const auth = { Authorization: `Bearer ${api}` };
  const slug = `rel-ui-${Date.now().toString(36)}`;
  expect((await page.request.post("/api/v1/registries", { headers: auth, data: { name: "Acme registry", endpoint: registry.url, username: "bob", password: "bob-pw" } })).status()).toBe(201);
  expect((await page.request.post("/api/v1/apps", { headers: auth, data: { name: "Release App", slug } })).status()).toBe(201);
  const customer = await (await page.request.post(`/api/v1/apps/${slug}/customers`, { headers: auth, data: { name: "Initech" } })).json();
  const pathName = `127.0.0.1_${registry.port}`;
  const pullUrl = `/v2/proxy/${slug}/${pathName}/private/api/manifests/1.0`;
  const pull = () =>
    page.request.get(pullUrl, {
      headers: { Authorization: `Basic ${Buffer.from(`LICENSE_ID:${customer.license.licenseId}`).toString("base64")}`, Accept: MANIFEST_ACCEPT },
    });

  await signIn(page, owner.email);
  await page.goto(`/t/${owner.team.slug}/apps/${slug}`);
  // No release and no pattern: the page says customers can pull nothing.
  await expect(page.getByTestId("allows-nothing")).toContainText("Customers can pull nothing yet");
  await page.getByRole("link", { name: "New release" }).click();
  await expect(page).toHaveURL(new RegExp(`/apps/${slug}/releases/new$`));
  await page.getByLabel("Version").fill("1.0.0");
  await page.getByLabel("Notes").fill("First release.");
  await page.getByLabel("Manifests").fill(`apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  template:
    spec:
      containers:
        - { name: api, image: "${registry.host}/private/api:1.0" }
        - { name: tool, image: "${registry.host}/public/tool:2.0" }
`);
  await page.getByRole("button", { name: "Create release" }).click();
  await expect(page).toHaveURL(new RegExp(`/apps/${slug}/releases/1\\.0\\.0\\?created=1$`), { timeout: 30_000 });
  await expect(page.getByRole("heading", { name: "Release App 1.0.0" })).toBeVisible();
  await expect(page.getByTestId("release-state")).toHaveText("active");

  // The image table: the private image is rewritten to the proxy, the public one stays.
  const rows = page.getByTestId("release-image");
  await expect(rows).toHaveCount(2);
  await expect(page.locator('[data-testid="release-image"][data-status="private"]')).toContainText(`${e2eHost}/proxy/${slug}/${pathName}/private/api:1.0`);
  await expect(page.locator('[data-testid="release-image"][data-status="public"]')).toContainText(`${registry.host}/public/tool:2.0`);

  // A second New release is prefilled from this one.
  await page.goto(`/t/${owner.team.slug}/apps/${slug}/releases/new`);
  await expect(page.getByLabel("Manifests")).toHaveValue(/private\/api:1\.0/);
  await expect(page.getByRole("button", { name: "Use 1.0.1" })).toBeVisible();
  // A duplicate version is refused on the version field.
  await page.getByLabel("Version").fill("1.0.0");
  await page.getByRole("button", { name: "Create release" }).click();
  await expect(page.locator("#version-error")).toBeVisible({ timeout: 30_000 });
  await expect(page).toHaveURL(/\/releases\/new$/);
  // Bad YAML is reported on the manifests with file, document and line; what was typed stays.
  await page.getByLabel("Version").fill("1.0.1");
  await page.getByLabel("Notes").fill("Broken on purpose.");
  await page.getByLabel("Manifests").fill("kind: Pod\n---\nmetadata: [unclosed\n");
  await page.getByRole("button", { name: "Create release" }).click();
  await expect(page.locator("#manifests-error")).toContainText(/document 2, line \d+/, { timeout: 30_000 });
  await expect(page.getByLabel("Notes")).toHaveValue("Broken on purpose.");
  // A platform that is not os/arch is refused on its field; what was typed stays.
  await page.getByLabel("Platforms in air-gap bundles").fill("linux/amd64, Linux amd64");
  await page.getByRole("button", { name: "Create release" }).click();
  await expect(page.locator("#platforms-error")).toContainText("os/arch", { timeout: 30_000 });
  await expect(page.getByLabel("Platforms in air-gap bundles")).toHaveValue("linux/amd64, Linux amd64");
  await expect(page.getByLabel("Version")).toHaveValue("1.0.1");

  // The app page lists the release and no longer warns; the license pulls its image.
  await page.goto(`/t/${owner.team.slug}/apps/${slug}`);
  await expect(page.getByTestId("release-row")).toHaveCount(1);
  await expect(page.getByTestId("release-row")).toContainText("1.0.0");
  await expect(page.getByTestId("allows-nothing")).toHaveCount(0);
  expect((await pull()).status()).toBe(200);

  // Installer for the customer: commands, files, and the whole bundle as a zip.
  await page.getByTestId("release-row").getByRole("link", { name: "1.0.0" }).click();
  await expect(page).toHaveURL(new RegExp(`/apps/${slug}/releases/1\\.0\\.0$`));
  await expect(page.getByTestId("airgap-platforms")).toHaveText("Multi-arch images: every platform; public images included.");
  await page.getByLabel("Customer", { exact: true }).selectOption(customer.id);
  await page.getByRole("button", { name: "Show installer" }).click();
  await expect(page.getByTestId("installer")).toContainText("For Initech");
  await expect(page.getByTestId("installer-commands")).toContainText(`docker login ${e2eHost}`);
  await expect(page.getByTestId("installer-file").first()).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-bundle").click()]);
  expect(download.suggestedFilename()).toMatch(/\.zip$/);
  const zip = unzipSync(fs.readFileSync(await download.path()));
  const names = Object.keys(zip);
  const text = (name: string) => strFromU8(zip[name] ?? new Uint8Array());
  const imagesJson = names.find((n) => n.endsWith("images.json"));
  expect(imagesJson, names.join(", ")).toBeTruthy();
  expect(text(imagesJson!)).toContain(`${e2eHost}/proxy/${slug}/${pathName}/private/api`);
  // The e2e server's proxy URL is the default, plain http: the README says what clients need for that.
  const readme = text(names.find((n) => n.endsWith("README.md")) ?? "");
  expect(readme).toContain(`pulled through ${e2eHost} (http://${e2eHost})`);
  expect(readme).toContain(`- Docker: add "${e2eHost}" to "insecure-registries"`);
  const configMap = names.find((n) => /\.ya?ml$/.test(n) && YAML.parseAllDocuments(text(n)).some((d) => d.toJS()?.kind === "ConfigMap"));
  expect(configMap, names.join(", ")).toBeTruthy();
  // The overlay's kustomization (there is also base/kustomization.yaml for the manifests as uploaded).
  const kustomization = names.find((n) => n.endsWith("kustomization.yaml") && text(n).includes("newName"));
  expect(kustomization, names.join(", ")).toBeTruthy();
  expect(text(kustomization!)).toContain(`${e2eHost}/proxy/${slug}/${pathName}/private/api`);
  // The pull secret in the bundle carries this customer's license.
  const secret = names
    .filter((n) => /\.ya?ml$/.test(n))
    .flatMap((n) => YAML.parseAllDocuments(text(n)).map((d) => d.toJS()))
    .find((d) => d?.kind === "Secret" && d.data?.[".dockerconfigjson"]);
  expect(secret, names.join(", ")).toBeTruthy();
  expect(JSON.parse(Buffer.from(secret.data[".dockerconfigjson"], "base64").toString()).auths[e2eHost].password).toBe(customer.license.licenseId);

  // Re-probe: nothing moved on the registry, so nothing changed.
  await page.getByRole("button", { name: "Re-probe" }).click();
  await expect(page.getByTestId("reprobe-result")).toContainText("nothing changed", { timeout: 30_000 });

  // Archive (with a confirmation): the release says so and the customer's pull is denied within a second or so.
  await page.getByRole("button", { name: "Archive", exact: true }).click();
  await expect(page.getByRole("dialog")).toContainText("Archive release 1.0.0?");
  await page.getByRole("button", { name: "Archive 1.0.0" }).click();
  await expect(page.getByTestId("release-state")).toContainText("archived");
  await expect.poll(async () => (await pull()).status(), { timeout: 5_000 }).toBe(403);
  await page.goto(`/t/${owner.team.slug}/apps/${slug}`);
  await expect(page.getByTestId("release-row")).toContainText("archived");
  await expect(page.getByTestId("allows-nothing")).toBeVisible();
});

test("a release of another team is not found, and its bundle too", async ({ page }) => {
  const a = seedOwner("releases-a");
  const b = seedOwner("releases-b");
  const api = createToken(a.email, a.team.slug);
  const auth = { Authorization: `Bearer ${api}` };
  const slug = `rel-x-${Date.now().toString(36)}`;
  expect((await page.request.post("/api/v1/apps", { headers: auth, data: { name: "X", slug } })).status()).toBe(201);
  await signIn(page, b.email);
  // B guesses A's app under A's team slug (not a member) and under B's own team (no such app).
  for (const team of [a.team.slug, b.team.slug]) {
    expect((await page.goto(`/t/${team}/apps/${slug}/releases/1.0.0`))?.status()).toBe(404);
    expect((await page.request.get(`/t/${team}/apps/${slug}/releases/1.0.0/bundle?customer=x`)).status()).toBe(404);
  }
});

test("extra patterns: field errors, and a pattern lifts the allows-nothing notice; a customer's pin is saved", async ({ page }) => {
  const owner = seedOwner("releases-patterns");
  const api = createToken(owner.email, owner.team.slug);
  const auth = { Authorization: `Bearer ${api}` };
  const slug = `rel-pat-${Date.now().toString(36)}`;
  expect((await page.request.post("/api/v1/apps", { headers: auth, data: { name: "Patterns", slug } })).status()).toBe(201);
  const customer = await (await page.request.post(`/api/v1/apps/${slug}/customers`, { headers: auth, data: { name: "Trial Co", type: "trial" } })).json();
  await signIn(page, owner.email);
  await page.goto(`/t/${owner.team.slug}/apps/${slug}`);
  await expect(page.getByTestId("allows-nothing")).toBeVisible();

  const form = page.getByTestId("patterns-form");
  await form.getByLabel("Extra repository patterns").fill("quay.io/acme/*\nquay.io//bad");
  await form.getByRole("button", { name: "Save patterns" }).click();
  await expect(page.locator("#patterns-error")).toContainText("empty path segment");
  await expect(form.getByLabel("Extra repository patterns")).toHaveAttribute("aria-invalid", "true");
  await form.getByLabel("Extra repository patterns").fill("quay.io/acme/*");
  await form.getByRole("button", { name: "Save patterns" }).click();
  await expect(form.getByRole("status")).toContainText("Saved 1 pattern");
  await page.reload();
  await expect(page.getByTestId("allows-nothing")).toHaveCount(0);
  await expect(page.getByTestId("patterns-form").getByLabel("Extra repository patterns")).toHaveValue("quay.io/acme/*");

  await page.goto(`/t/${owner.team.slug}/apps/${slug}/customers/${customer.id}`);
  const pin = page.getByTestId("pin-form");
  await pin.getByLabel("Up to version").fill("1.2.0");
  await pin.getByLabel("Released before").fill("2026-12-01");
  await pin.getByRole("button", { name: "Save pin" }).click();
  await expect(pin.getByRole("status")).toContainText("Pinned to releases up to 1.2.0 and released before 2026-12-01");
  await page.reload();
  await expect(page.getByTestId("current-pin")).toContainText("Pinned: this license reaches only releases up to 1.2.0");
  await expect(page.getByTestId("pin-form").getByLabel("Up to version")).toHaveValue("1.2.0");
});
