import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, test } from "./test";
import YAML from "yaml";
import { startRegistry, stopAll, type RunningRegistry } from "../lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "../lib/testing/registries/images";
import { e2eHost } from "../playwright.config";
import { gantryCli, PASSWORD, uniqueEmail } from "./fixtures";

const run = promisify(execFile);
let basic: RunningRegistry;

test.beforeAll(async () => {
  basic = await startRegistry({ auth: "htpasswd", users: { vendor: "vendor-secret-pw" } });
  await pushImage(await buildImage({ files: { "journey.txt": "journey\n" } }), { registry: basic, repo: "acme/server", tag: "2.1", creds: "vendor:vendor-secret-pw" });
});
test.afterAll(async () => {
  await stopAll();
  cleanupImages();
});

test("vendor to customer: sign up, add a registry, app and customer, preview; the customer pulls with the generated secret; revoke stops it; the pull is logged", async ({ page }) => {
  test.setTimeout(120_000);
  const slug = `journey-${Date.now().toString(36)}`;
  // 1. The vendor signs up and sets everything up in the UI.
  await page.goto("/sign-up");
  await page.getByLabel("Work email").fill(uniqueEmail("journey"));
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Team name").fill("Journey Software");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/apps$/);
  const team = new URL(page.url()).pathname.split("/")[2] ?? "";

  const email = (await page.getByTestId("user-email").getAttribute("title")) ?? "";
  await page.goto(`/t/${team}/registries/new`);
  const reg = page.getByTestId("registry-form");
  await reg.getByLabel("Name", { exact: true }).fill("Acme private");
  await reg.getByLabel("Endpoint").fill(basic.url);
  await reg.getByLabel("Username").fill("vendor");
  await reg.getByLabel("Password or token").fill("vendor-secret-pw");
  await reg.getByRole("button", { name: "Add registry" }).click();
  await expect(page.getByText("Registry added.")).toBeVisible();

  await page.goto(`/t/${team}/apps`);
  await page.getByTestId("new-app-form").getByLabel("App name").fill("Journey");
  await page.getByTestId("new-app-form").getByLabel("Slug").fill(slug);
  await page.getByTestId("new-app-form").getByRole("button", { name: "Create app" }).click();
  await page.getByTestId("new-customer-form").getByLabel("Customer name").fill("Umbrella Corp");
  await page.getByTestId("new-customer-form").getByRole("button", { name: "Create customer and license" }).click();
  await expect(page.getByTestId("license-state")).toHaveText("active");
  const customerUrl = page.url().replace(/\?.*$/, "");
  const customerId = customerUrl.split("/").at(-1) ?? "";

  await page.goto(`/t/${team}/apps/${slug}/images`);
  await page.getByLabel("Manifests").fill(`apiVersion: apps/v1
kind: Deployment
metadata: { name: server }
spec:
  template:
    spec:
      containers: [{ name: server, image: "${basic.host}/acme/server:2.1" }]
`);
  await page.getByLabel("Build the pull secret from the license of").selectOption(customerId);
  await page.getByRole("button", { name: "Preview" }).click();
  const rewritten = `${e2eHost}/proxy/${slug}/127.0.0.1_${basic.port}/acme/server:2.1`;
  await expect(page.locator('[data-testid="preview-row"][data-status="private"]')).toContainText(rewritten);
  await page.getByRole("tab", { name: "secret.yaml" }).click();
  const secret = YAML.parseAllDocuments((await page.getByTestId("file-content").textContent()) ?? "")[0]?.toJS();

  // 2. The customer pulls with the generated secret, unchanged, through Gantry.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-journey-"));
  const authfile = path.join(dir, "auth.json");
  fs.writeFileSync(authfile, Buffer.from(secret.data[".dockerconfigjson"], "base64"));
  const pull = () => run("skopeo", ["copy", "--src-tls-verify=false", "--authfile", authfile, `docker://${rewritten}`, `oci:${dir}/image:2.1`]);
  // An app with no releases and no patterns allows nothing: the vendor makes the image reachable first.
  await expect(pull()).rejects.toThrow(/is not part of Journey's releases; ask your vendor/);
  // TODO(releases UI): create a release from these manifests (POST /api/v1/apps/{slug}/releases or the Releases page)
  // instead of an extra pattern, once the release flow is on this branch.
  const admin = gantryCli(["create-token", "--email", email, "--team", team, "--name", "ops"]).at(-1) ?? "";
  const patched = await page.request.patch(`/api/v1/apps/${slug}`, { headers: { Authorization: `Bearer ${admin}` }, data: { extraPatterns: [`127.0.0.1_${basic.port}/acme/server`] } });
  expect(patched.status()).toBe(200);
  expect(await patched.json()).toEqual({ app: { slug, extraPatterns: [`127.0.0.1_${basic.port}/acme/server`] } });
  const invalid = await page.request.patch(`/api/v1/apps/${slug}`, { headers: { Authorization: `Bearer ${admin}` }, data: { extraPatterns: ["quay.io/a**"] } });
  expect(invalid.status()).toBe(422);
  expect((await invalid.json()).error).toMatchObject({ code: "VALIDATION", fields: { patterns: [expect.stringMatching(/whole path segment/)] } });
  await pull();
  expect(fs.existsSync(path.join(dir, "image", "index.json"))).toBe(true);

  // 3. An admin revokes in the UI, and the same pull fails.
  await page.goto(customerUrl);
  await page.getByRole("button", { name: "Revoke license" }).click();
  await page.getByRole("button", { name: "Revoke Umbrella Corp" }).click();
  await expect(page.getByTestId("license-state")).toHaveText("revoked");
  await expect(pull()).rejects.toThrow(/revoked/);

  // Through the API as well: restore, pull again, revoke, and the next pull is denied within a second.
  // The API addresses the license by its row id or fingerprint (from the customer list), never by the license ID in a URL.
  const licenseKey = JSON.parse(Buffer.from(secret.data[".dockerconfigjson"], "base64").toString()).auths[e2eHost].password as string;
  const listed = await (await page.request.get(`/api/v1/apps/${slug}/customers`, { headers: { Authorization: `Bearer ${admin}` } })).json();
  const license = listed.customers.find((c: { id: string }) => c.id === customerId).license as { id: string; fingerprint: string };
  expect(license.fingerprint).toBe(crypto.createHash("sha256").update(licenseKey).digest("hex").slice(0, 8));
  // Pinning through the API (an app with only a pattern: the pin limits releases, not patterns).
  const pin = await page.request.put(`/api/v1/licenses/${license.fingerprint}/pin`, { headers: { Authorization: `Bearer ${admin}` }, data: { maxVersion: "1.0.0", releasedBefore: "2030-01-01T00:00:00Z" } });
  expect(pin.status()).toBe(200);
  expect(await pin.json()).toEqual({ pin: { maxVersion: "1.0.0", releasedBefore: "2030-01-01T00:00:00.000Z" } });
  const unpinned = await page.request.put(`/api/v1/licenses/${license.id}/pin`, { headers: { Authorization: `Bearer ${admin}` }, data: { maxVersion: null, releasedBefore: null } });
  expect(await unpinned.json()).toEqual({ pin: { maxVersion: null, releasedBefore: null } });
  expect((await page.request.post(`/api/v1/licenses/${license.id}/restore`, { headers: { Authorization: `Bearer ${admin}` } })).status()).toBe(200);
  fs.rmSync(path.join(dir, "image"), { recursive: true, force: true });
  await pull();
  expect((await page.request.post(`/api/v1/licenses/${license.id}/revoke`, { headers: { Authorization: `Bearer ${admin}` }, data: { reason: "api" } })).status()).toBe(200);
  const revokedAt = Date.now();
  await expect(run("skopeo", ["inspect", "--raw", "--tls-verify=false", "--authfile", authfile, `docker://${rewritten}`])).rejects.toThrow(/revoked/);
  expect(Date.now() - revokedAt).toBeLessThan(1000 + 2000); // the denial itself is immediate; skopeo's own start-up is the rest

  // 4. The pull appears on the customer page and in Activity → Pulls.
  await page.reload();
  await expect(page.getByTestId("last-pull")).toContainText("acme/server");
  await expect(page.getByTestId("pulls-table")).toContainText("acme/server manifests 2.1");
  await page.goto(`/t/${team}/activity?show=pulls`);
  await expect(page.getByTestId("pulls-table")).toContainText("Umbrella Corp");
  const token = gantryCli(["create-token", "--email", email, "--team", team, "--role", "member"]).at(-1) ?? "";
  const apiPulls = await (await page.request.get(`/api/v1/licenses/${license.fingerprint}/pulls`, { headers: { Authorization: `Bearer ${token}` } })).json();
  expect(apiPulls.pulls[0]).toMatchObject({ repository: "acme/server", status: expect.any(Number) });
  expect(apiPulls.pulls.map((p: { kind: string }) => p.kind)).toContain("blobs");
  const times = apiPulls.pulls.map((p: { createdAt: string }) => p.createdAt);
  expect([...times].sort().reverse()).toEqual(times);
  fs.rmSync(dir, { recursive: true, force: true });
});
