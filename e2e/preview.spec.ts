import fs from "node:fs";
import { expect, test } from "./test";
import { unzipSync } from "fflate";
import YAML from "yaml";
import { startRegistry, stopAll, type RunningRegistry } from "../lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "../lib/testing/registries/images";
import { e2eHost } from "../playwright.config";
import { createToken, seedOwner, signIn } from "./fixtures";

let token: RunningRegistry;

test.beforeAll(async () => {
  token = await startRegistry({ auth: "token", users: { bob: "bob-pw" } });
  const img = await buildImage({ files: { "preview-e2e.txt": "preview\n" } });
  await pushImage(img, { registry: token, repo: "private/api", tag: "1.0", creds: "bob:bob-pw" });
  await pushImage(img, { registry: token, repo: "public/tool", tag: "2.0", creds: "bob:bob-pw" });
});
test.afterAll(async () => {
  await stopAll();
  cleanupImages();
});

test("paste manifests, watch rows fill in with statuses, pick a license, copy and download the files", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const owner = seedOwner("preview");
  const api = createToken(owner.email, owner.team.slug);
  const auth = { Authorization: `Bearer ${api}` };
  const slug = `preview-${Date.now().toString(36)}`;
  expect((await page.request.post("/api/v1/registries", { headers: auth, data: { name: "Acme token registry", endpoint: token.url, username: "bob", password: "bob-pw" } })).status()).toBe(201);
  expect((await page.request.post("/api/v1/apps", { headers: auth, data: { name: "Preview App", slug } })).status()).toBe(201);
  const customer = await (await page.request.post(`/api/v1/apps/${slug}/customers`, { headers: auth, data: { name: "Initech" } })).json();

  await signIn(page, owner.email);
  await page.goto(`/t/${owner.team.slug}/apps/${slug}`);
  await page.getByRole("link", { name: "Images and rewrite preview" }).click();
  await page.getByLabel("Manifests").fill(`apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  template:
    spec:
      containers:
        - { name: api, image: "${token.host}/private/api:1.0" }
        - { name: tool, image: "${token.host}/public/tool:2.0" }
        - { name: typo, image: "${token.host}/public/toool:2.0" }
        - { name: bad, image: "Not/Valid" }
`);
  await page.getByRole("button", { name: "Preview" }).click();
  const rows = page.getByTestId("preview-row");
  await expect(rows).toHaveCount(4);
  await expect(page.locator('[data-testid="preview-row"][data-status="private"]')).toContainText(`${e2eHost}/proxy/${slug}/127.0.0.1_${token.port}/private/api:1.0`);
  await expect(page.locator('[data-testid="preview-row"][data-status="private"]')).toContainText("insufficient_scope");
  await expect(page.locator('[data-testid="preview-row"][data-status="public"]')).toContainText("loads anonymously");
  await expect(page.locator('[data-testid="preview-row"][data-status="not_found"]')).toContainText("typo");
  await expect(page.locator('[data-testid="preview-row"][data-status="invalid"]')).toContainText("lowercase");
  await expect(page.getByTestId("preview-summary")).toContainText(`docker login ${e2eHost}`);
  await expect(page.getByTestId("preview-summary")).toContainText(`${e2eHost} is served over plain http (http://${e2eHost})`);

  // Without a license the secret is a marked placeholder; pick the customer's license and preview again.
  await page.getByRole("tab", { name: "secret.yaml" }).click();
  await expect(page.getByTestId("file-content")).toContainText("REPLACE_WITH_LICENSE_ID is a placeholder");
  await page.getByLabel("Build the pull secret from the license of").selectOption(customer.id);
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByTestId("preview-summary")).toBeVisible();
  await page.getByRole("tab", { name: "secret.yaml" }).click();
  const secret = YAML.parseAllDocuments((await page.getByTestId("file-content").textContent()) ?? "")[0]?.toJS();
  const config = JSON.parse(Buffer.from(secret.data[".dockerconfigjson"], "base64").toString());
  expect(config.auths[e2eHost].password).toBe(customer.license.licenseId);

  // Copy the kustomization and download it, and all files as an archive.
  await page.getByRole("tab", { name: "kustomization.yaml" }).click();
  await page.getByRole("button", { name: "Copy kustomization.yaml" }).click();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(YAML.parse(copied).images).toEqual([{ name: `${token.host}/private/api`, newName: `${e2eHost}/proxy/${slug}/127.0.0.1_${token.port}/private/api` }]);
  const [one] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download kustomization.yaml" }).click()]);
  expect(one.suggestedFilename()).toBe("kustomization.yaml");
  expect(fs.readFileSync(await one.path(), "utf8")).toBe(copied);
  const [all] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download all (.zip)" }).click()]);
  const zip = unzipSync(fs.readFileSync(await all.path()));
  expect(Object.keys(zip).sort()).toEqual(["helm-values.yaml", "overlays/midstream/kustomization.yaml", "overlays/midstream/pullsecrets.yaml", "overlays/midstream/secret.yaml"]);

  // Bad YAML gets an error naming the file, document and line; nothing else is lost.
  await page.getByLabel("Manifests").fill("kind: Pod\n---\nmetadata: [unclosed\n");
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByTestId("preview-error")).toContainText(/pasted\.yaml, document 2, line \d+/);
  await expect(page.getByLabel("Manifests")).toHaveValue("kind: Pod\n---\nmetadata: [unclosed\n");
});

test("preview API: images, files and error format", async ({ request }) => {
  const owner = seedOwner("preview-api");
  const api = createToken(owner.email, owner.team.slug);
  const auth = { Authorization: `Bearer ${api}` };
  const slug = `pv-api-${Date.now().toString(36)}`;
  await request.post("/api/v1/apps", { headers: auth, data: { name: "PV", slug } });
  const res = await request.post(`/api/v1/apps/${slug}/preview`, { headers: auth, data: { images: [`${token.host}/private/api:1.0`, `${token.host}/public/tool:2.0`] } });
  expect(res.status()).toBe(200);
  const body = await res.json();
  expect(body.images).toEqual([
    expect.objectContaining({ image: `${token.host}/private/api:1.0`, status: "private", rewritten: `${e2eHost}/proxy/${slug}/127.0.0.1_${token.port}/private/api:1.0`, missingRegistry: true }),
    expect.objectContaining({ image: `${token.host}/public/tool:2.0`, status: "public", rewritten: null }),
  ]);
  expect(Object.keys(body.files).sort()).toEqual(["helm-values.yaml", "kustomization.yaml", "pullsecrets.yaml", "secret.yaml"]);
  const bad = await request.post(`/api/v1/apps/${slug}/preview`, { headers: auth, data: { manifests: "a: [1\n" } });
  expect(bad.status()).toBe(422);
  expect((await bad.json()).error).toMatchObject({ code: "VALIDATION", message: expect.stringMatching(/manifest\.yaml, document 1, line/) });
  const big = await request.post(`/api/v1/apps/${slug}/preview`, { headers: auth, data: { manifests: "a: b\n".repeat(600_000) } });
  expect(big.status()).toBe(413);
  expect((await request.post(`/api/v1/apps/nope-${slug}/preview`, { headers: auth, data: { images: ["x"] } })).status()).toBe(404);
});
