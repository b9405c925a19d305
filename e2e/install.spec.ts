import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { strFromU8, unzipSync } from "fflate";
import { helmTools, runTool } from "../lib/deploy/helm";
import { e2eRegistryHost } from "../playwright.config";
import { expect, test, type APIRequestContext, type Page } from "./test";
import { createToken, seedOwner, signIn } from "./fixtures";

/**
 * The customer's install page (/install): a customer signs in with their
 * license ID only, sees their license and the releases they may install
 * (their pin respected), copies the Helm commands for a chart the vendor
 * pushed with the real `helm push`, downloads their installer zip, and sees
 * their pulls. No license ID in any URL; at 1366 and 390 px.
 */

interface Vendor {
  slug: string;
  auth: { Authorization: string };
  email: string;
  team: string;
}

let helm = "";
let dir = "";

test.beforeAll(async () => {
  ({ helm } = await helmTools());
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-e2e-install-"));
});
test.afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function helmOk(args: string[]) {
  const r = await runTool(helm, args);
  expect(r.code, `helm ${args.join(" ")}: ${r.stderr}`).toBe(0);
}

/** A team with an app whose releases 1.0.0 and 2.0.0 ship chart versions 0.1.0 and 0.2.0, pushed with helm. */
async function vendorWithCharts(request: APIRequestContext, tag: string): Promise<Vendor> {
  const owner = seedOwner(tag, `Install ${tag}`);
  const token = createToken(owner.email, owner.team.slug, "helm-ci");
  const auth = { Authorization: `Bearer ${token}` };
  const slug = `${tag}-${Date.now().toString(36)}${crypto.randomBytes(2).toString("hex")}`;
  expect((await request.post("/api/v1/apps", { headers: auth, data: { name: `Shop ${tag}`, slug } })).status()).toBe(201);
  const chartDir = path.join(dir, slug);
  fs.mkdirSync(chartDir, { recursive: true });
  const registryConfig = ["--registry-config", path.join(dir, `${slug}.json`)];
  await helmOk(["create", path.join(chartDir, "shop")]);
  await helmOk(["registry", "login", e2eRegistryHost, "-u", token, "-p", token, "--plain-http", ...registryConfig]);
  for (const version of ["0.1.0", "0.2.0"]) {
    const chartYaml = path.join(chartDir, "shop", "Chart.yaml");
    fs.writeFileSync(chartYaml, fs.readFileSync(chartYaml, "utf8").replace(/^version: .*$/m, `version: ${version}`));
    await helmOk(["package", path.join(chartDir, "shop"), "--destination", chartDir]);
    await helmOk(["push", path.join(chartDir, `shop-${version}.tgz`), `oci://${e2eRegistryHost}/${slug}`, "--plain-http", ...registryConfig]);
  }
  for (const [version, chart] of [["1.0.0", "0.1.0"], ["2.0.0", "0.2.0"]]) {
    const res = await request.post(`/api/v1/apps/${slug}/releases`, { headers: auth, data: { version, notes: `Shop ${version}`, charts: [`${e2eRegistryHost}/${slug}/shop:${chart}`] } });
    expect(res.status(), await res.text()).toBe(201);
  }
  return { slug, auth, email: owner.email, team: owner.team.slug };
}

async function customer(request: APIRequestContext, v: Vendor, name: string, pin?: string): Promise<{ licenseId: string; fingerprint: string }> {
  const res = await request.post(`/api/v1/apps/${v.slug}/customers`, { headers: v.auth, data: { name } });
  expect(res.status()).toBe(201);
  const license = (await res.json()).license as { licenseId: string; fingerprint: string };
  if (pin) expect((await request.put(`/api/v1/licenses/${license.fingerprint}/pin`, { headers: v.auth, data: { maxVersion: pin } })).status()).toBe(200);
  return license;
}

async function signInWithLicense(page: Page, licenseId: string) {
  await page.goto("/install");
  await page.getByLabel("License ID").fill(licenseId);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function noHorizontalScroll(page: Page) {
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(page.viewportSize()?.width ?? 0);
}

test("a customer signs in with their license, sees only their releases, copies the Helm commands and downloads the installer zip", async ({ page, request }) => {
  test.setTimeout(180_000);
  const v = await vendorWithCharts(request, "install");
  const trial = await customer(request, v, "Trial Buyer", "1.0.0");
  const urls: string[] = [];
  page.on("request", (r) => urls.push(r.url()));

  // A wrong license is refused next to the field.
  await signInWithLicense(page, trial.licenseId.replace(/.$/, (c) => (c === "a" ? "b" : "a")));
  await expect(page.getByText("This license ID is not known.")).toBeVisible();

  await page.setViewportSize({ width: 1366, height: 900 });
  await signInWithLicense(page, trial.licenseId);
  await expect(page.getByTestId("install-app")).toHaveText(`Shop install`);
  await expect(page.getByTestId("install-license").getByTestId("license-state")).toHaveText(/active/i);
  await expect(page.getByTestId("install-license")).toContainText(trial.fingerprint);
  await expect(page.getByText("Your license covers releases up to 1.0.0.")).toBeVisible();
  // Pinned to 1.0.0: 2.0.0 is not offered.
  await expect(page.getByTestId("install-release")).toHaveCount(1);
  const release = page.locator('[data-testid="install-release"][data-version="1.0.0"]');
  const helmCommands = release.getByTestId("install-helm-commands");
  await expect(helmCommands).toContainText(`helm registry login ${e2eRegistryHost} --username LICENSE_ID --password-stdin`);
  await expect(helmCommands).toContainText(`helm install shop oci://${e2eRegistryHost}/${v.slug}/shop --version 0.1.0`);
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await release.getByRole("button", { name: /Copy: Helm/ }).click();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toContain(`--version 0.1.0`);
  expect(copied).not.toContain(trial.licenseId);
  await noHorizontalScroll(page);

  // The installer zip carries this customer's pull secret.
  const [download] = await Promise.all([page.waitForEvent("download"), release.getByTestId("install-bundle").click()]);
  expect(download.suggestedFilename()).toBe(`${v.slug}-1.0.0.zip`);
  const files = unzipSync(fs.readFileSync(await download.path()));
  expect(Object.keys(files)).toContain("overlays/midstream/secret.yaml");
  expect(strFromU8(files["README.md"]!)).toContain("Trial Buyer");
  // The newer release's zip is not this license's.
  expect((await page.request.get(`/install/releases/2.0.0/bundle`)).status()).toBe(404);

  // The air-gap bundle: one tar with the license's chart, push.sh and an OCI layout; not for 2.0.0.
  const [airgap] = await Promise.all([page.waitForEvent("download"), release.getByTestId("install-airgap").click()]);
  expect(airgap.suggestedFilename()).toBe(`${v.slug}-1.0.0-airgap.tar`);
  const tarFile = await airgap.path();
  const listing = execFileSync("tar", ["-tf", tarFile], { encoding: "utf8" }).split("\n");
  for (const entry of ["charts/shop-0.1.0.tgz", "push.sh", "README.md", "images.json", "images/index.json", "images/oci-layout", "manifests/kustomization.yaml"]) {
    expect(listing).toContain(`${v.slug}-1.0.0/${entry}`);
  }
  expect((await page.request.get(`/install/releases/2.0.0/airgap`)).status()).toBe(404);
  await expect(release.getByTestId("install-airgap-command")).toContainText(`-u "LICENSE_ID:$GANTRY_LICENSE_ID"`);
  // Scripted as the page shows (the license ID as the password, no session), and resumed with Range.
  const licenseAuth = { authorization: `Basic ${Buffer.from(`LICENSE_ID:${trial.licenseId}`).toString("base64")}` };
  const size = fs.statSync(tarFile).size;
  const head = await request.head(`/install/releases/1.0.0/airgap`, { headers: licenseAuth });
  expect(head.status()).toBe(200);
  expect(Number(head.headers()["content-length"])).toBe(size);
  const tail = await request.get(`/install/releases/1.0.0/airgap`, { headers: { ...licenseAuth, range: `bytes=${size - 2048}-`, "if-range": head.headers()["etag"]! } });
  expect(tail.status()).toBe(206);
  expect(Buffer.compare(await tail.body(), fs.readFileSync(tarFile).subarray(size - 2048))).toBe(0);
  expect((await request.head(`/install/releases/1.0.0/airgap`)).status()).toBe(401);

  // 390 px: everything readable without sideways scrolling.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await expect(page.getByTestId("install-release")).toHaveCount(1);
  await noHorizontalScroll(page);

  // Signing out ends it; the downloads need the session.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByLabel("License ID")).toBeVisible();
  expect((await page.request.get("/install/license")).status()).toBe(401);
  expect(urls.filter((u) => u.includes(trial.licenseId))).toEqual([]);
});

test("a customer sees their pulls; another license's pulls and a turned-off page are not theirs", async ({ page, request }) => {
  test.setTimeout(180_000);
  const v = await vendorWithCharts(request, "instpull");
  const paid = await customer(request, v, "Paid Buyer");
  const other = await customer(request, v, "Other Buyer");
  // Pulls with each license: helm pull of the chart (their own variant) as a real client would.
  for (const [who, license] of [["paid", paid], ["other", other]] as const) {
    const config = ["--registry-config", path.join(dir, `${v.slug}-${who}.json`)];
    fs.mkdirSync(path.join(dir, `${v.slug}-${who}`), { recursive: true });
    await helmOk(["registry", "login", e2eRegistryHost, "-u", "LICENSE_ID", "-p", license.licenseId, "--plain-http", ...config]);
    await helmOk(["pull", `oci://${e2eRegistryHost}/${v.slug}/shop`, "--version", who === "paid" ? "0.2.0" : "0.1.0", "--plain-http", "--destination", path.join(dir, `${v.slug}-${who}`), ...config]);
  }

  await signInWithLicense(page, paid.licenseId);
  await expect(page.getByTestId("install-release")).toHaveCount(2);
  const pulls = page.getByTestId("install-pulls");
  // The pull log is written in batches: reload until this customer's pulls are in.
  await expect(async () => {
    await page.reload();
    await expect(pulls.getByTestId("pulls-table")).toContainText("0.2.0", { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(pulls.getByTestId("pulls-chart")).toBeVisible();
  await expect(pulls.getByTestId("pulls-table")).not.toContainText("0.1.0");

  // The vendor turns the page off: the session ends and sign-in says why.
  expect((await request.patch(`/api/v1/apps/${v.slug}`, { headers: v.auth, data: { installPage: false } })).status()).toBe(200);
  await page.reload();
  await expect(page.getByLabel("License ID")).toBeVisible();
  await signInWithLicense(page, paid.licenseId);
  await expect(page.getByText("Your vendor has not turned on the install page for this application.")).toBeVisible();
});

test("the vendor sees charts on the Registry tab apart from images, and ships one in a new release", async ({ page, request }) => {
  test.setTimeout(180_000);
  const v = await vendorWithCharts(request, "instvendor");
  await signIn(page, v.email);
  await page.goto(`/t/${v.team}/apps/${v.slug}/registry`);
  const chart = page.locator('[data-testid="registry-chart"][data-chart="shop"]');
  await expect(chart).toContainText("shop");
  await expect(chart).toContainText(`oci://${e2eRegistryHost}/${v.slug}/shop`);
  await expect(chart.getByTestId("registry-chart-version")).toHaveCount(2);
  await expect(chart.locator('[data-version="0.2.0"]')).toContainText("1.16.0"); // appVersion from Chart.yaml
  await expect(page.getByTestId("registry-repository")).toHaveCount(0); // a chart is not listed among images
  await expect(page.getByTestId("helm-snippet")).toContainText(`helm push my-chart-1.2.0.tgz oci://${e2eRegistryHost}/${v.slug}`);

  // A new release, prefilled from 2.0.0 (which ships shop 0.2.0): pick 0.1.0 instead.
  await page.goto(`/t/${v.team}/apps/${v.slug}/releases/new`);
  const charts = page.getByTestId("release-charts");
  await expect(charts.getByLabel("shop 0.2.0")).toBeChecked();
  await charts.getByLabel("shop 0.2.0").uncheck();
  await charts.getByLabel("shop 0.1.0").check();
  await page.getByLabel("Version").fill("2.0.1");
  await page.getByRole("button", { name: "Create release" }).click();
  await expect(page.getByTestId("release-charts")).toContainText("shop");
  await expect(page.getByTestId("release-charts")).toContainText("0.1.0");
  await expect(page.getByTestId("release-charts")).not.toContainText("0.2.0");
  // The air-gap card measures the bundle without anyone downloading it (this release ships a chart, no images).
  await expect(page.getByTestId("airgap-size")).toContainText("0 images");

  // A customer's bundle from the release page (the vendor's session): the customer's chart variant inside.
  await customer(request, v, "Offline Bank");
  await page.reload();
  const option = await page.locator("#installer-customer option", { hasText: "Offline Bank" }).getAttribute("value");
  await page.getByLabel("Customer").selectOption(option!);
  await page.getByRole("button", { name: "Show installer" }).click();
  const [airgap] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-airgap").click()]);
  expect(airgap.suggestedFilename()).toBe(`${v.slug}-2.0.1-airgap.tar`);
  const listing = execFileSync("tar", ["-tf", await airgap.path()], { encoding: "utf8" }).split("\n");
  expect(listing).toContain(`${v.slug}-2.0.1/charts/shop-0.1.0.tgz`);
  const readme = execFileSync("tar", ["-xOf", await airgap.path(), `${v.slug}-2.0.1/README.md`], { encoding: "utf8" });
  expect(readme).toContain("Offline Bank");
  // Without the session, the same link is refused.
  expect((await request.head(new URL(page.url()).pathname + "/airgap?customer=x")).status()).toBe(401);
});
