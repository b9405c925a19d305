import crypto from "node:crypto";
import fs from "node:fs";
import { expect, test, type Page } from "./test";
import { e2eDnsRecords, e2eHost, e2eRegistryHost } from "../playwright.config";
import { createToken, gantryCli, inviteAndAccept, seedOwner, signIn } from "./fixtures";

/**
 * Custom domains in the portal and the API against the e2e run's DNS server:
 * add a domain, publish its TXT record, verify it, pick it on an app and see
 * it in a customer's installer (at 1366 and 390 px); members see but do not
 * manage; another team's domain is a 404 and its name a 409.
 */
type Zone = Record<string, { TXT?: string[]; A?: string[]; CNAME?: string[] }>;

/** Publishes records in the test DNS server's zone file (read on every query). */
function publish(name: string, records: Zone[string]) {
  // Two workers may write at once: write a whole new file, then rename it into place.
  const zone = JSON.parse(fs.readFileSync(e2eDnsRecords, "utf8")) as Zone;
  zone[name] = { ...zone[name], ...records };
  const tmp = `${e2eDnsRecords}.${process.pid}.${crypto.randomBytes(3).toString("hex")}`;
  fs.writeFileSync(tmp, JSON.stringify(zone));
  fs.renameSync(tmp, e2eDnsRecords);
}

async function noHorizontalScroll(page: Page) {
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(page.viewportSize()?.width ?? 0);
}

const stamp = () => `${Date.now().toString(36)}${crypto.randomBytes(2).toString("hex")}`;

test("add a domain, verify it by DNS, pick it on an app and see it in the installer, at 1366 and 390 px", async ({ page, request }) => {
  test.setTimeout(120_000);
  const owner = seedOwner("domains", `Domains ${stamp()}`);
  const auth = { Authorization: `Bearer ${createToken(owner.email, owner.team.slug)}` };
  const slug = `dom-${stamp()}`;
  const domain = `images-${stamp()}.acme.test`;
  expect((await request.post("/api/v1/apps", { headers: auth, data: { name: "Domains app", slug } })).status()).toBe(201);
  const customer = (await (await request.post(`/api/v1/apps/${slug}/customers`, { headers: auth, data: { name: "Initech" } })).json()) as { id: string };

  await page.setViewportSize({ width: 1366, height: 900 });
  await signIn(page, owner.email);
  await page.goto(`/t/${owner.team.slug}/settings`);
  await page.getByRole("link", { name: "Domains" }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${owner.team.slug}/settings/domains$`));
  await expect(page.getByText("No custom domains yet")).toBeVisible();

  const form = page.getByTestId("add-domain-form");
  await form.getByLabel("Domain name").fill(domain.toUpperCase());
  await form.getByRole("button", { name: "Add domain" }).click();
  const card = page.getByTestId(`domain-${domain}`);
  await expect(card.getByTestId("domain-status")).toHaveText("pending verification");
  await expect(card.getByTestId("txt-record-name")).toHaveText(`_gantry-challenge.${domain}`);
  const token = (await card.getByTestId("txt-record-value").textContent()) ?? "";
  expect(token).toMatch(/^gantry-verify=/);
  await expect(card.getByTestId("cname-record-value")).toHaveText("127.0.0.1");

  // Verify before the record exists: still pending, and it says why.
  await card.getByRole("button", { name: "Verify now" }).click();
  await expect(card.getByTestId("verify-domain")).toContainText("No TXT record");
  publish(`_gantry-challenge.${domain}`, { TXT: [token] });
  publish(domain, { A: ["127.0.0.1"] });
  await card.getByRole("button", { name: "Verify now" }).click();
  await expect(card.getByTestId("domain-status")).toHaveText("verified");
  await page.screenshot({ path: test.info().outputPath("domains-1366.png"), fullPage: true });

  // Pick it on the app.
  await page.goto(`/t/${owner.team.slug}/apps/${slug}`);
  const picker = page.getByTestId("app-domains-form");
  await picker.getByLabel("Proxy domain (customers pull)").selectOption(domain);
  await picker.getByRole("button", { name: "Save domains" }).click();
  await expect(picker).toContainText(`Customers now pull from ${domain}`);
  await expect(page.getByTestId("app-proxy-domain")).toHaveText(domain);

  // A release, and the customer's installer on the custom domain.
  const release = await request.post(`/api/v1/apps/${slug}/releases`, { headers: auth, data: { version: "1.0.0", images: [`${e2eRegistryHost}/${slug}/tool:1`] } });
  expect(release.status()).toBe(201);
  expect(((await release.json()) as { release: { proxyHost: string } }).release.proxyHost).toBe(domain);
  await page.goto(`/t/${owner.team.slug}/apps/${slug}/releases/1.0.0?customer=${customer.id}`);
  await expect(page.getByTestId("installer")).toContainText("For Initech");
  await expect(page.getByTestId("installer-commands")).toContainText(`docker login ${domain} -u LICENSE_ID`);
  await expect(page.getByTestId("installer")).not.toContainText(`docker login ${e2eHost}`);
  await expect(page.getByTestId("release-domains")).toContainText(domain);

  // The same at 390 px: nothing overflows.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`/t/${owner.team.slug}/settings/domains`);
  await expect(page.getByTestId(`domain-${domain}`).getByTestId("domain-status")).toHaveText("verified");
  await noHorizontalScroll(page);
  await page.screenshot({ path: test.info().outputPath("domains-390.png"), fullPage: true });
  await page.goto(`/t/${owner.team.slug}/apps/${slug}/releases/1.0.0?customer=${customer.id}`);
  await expect(page.getByTestId("installer-commands")).toContainText(`docker login ${domain}`);
  await page.goto(`/t/${owner.team.slug}/apps/${slug}`);
  await expect(page.getByTestId("app-proxy-domain")).toHaveText(domain);
  await noHorizontalScroll(page);

  // The operator's list.
  const listed = gantryCli(["domains", "--verified"]).map((l) => JSON.parse(l) as { name: string; team: string });
  expect(listed).toContainEqual(expect.objectContaining({ name: domain, team: owner.team.slug }));
});

test("members see the domains but cannot manage them; another team's domain is a 404 and its name a 409", async ({ page, browser, request }) => {
  test.setTimeout(120_000);
  const owner = seedOwner("domains-m", `Domains M ${stamp()}`);
  const auth = { Authorization: `Bearer ${createToken(owner.email, owner.team.slug)}` };
  const name = `pull-${stamp()}.acme.test`;
  const created = await request.post("/api/v1/domains", { headers: auth, data: { name, service: "registry" } });
  expect(created.status()).toBe(201);
  const { domain } = (await created.json()) as { domain: { id: string; name: string; status: string; verification: { type: string; name: string; value: string } } };
  expect(domain).toMatchObject({ name, status: "pending", verification: { type: "TXT", name: `_gantry-challenge.${name}` } });
  expect((await request.post("/api/v1/domains", { headers: auth, data: { name: "localhost.example", service: "both" } })).status()).toBe(422);
  const verify = await request.post(`/api/v1/domains/${domain.id}/verify`, { headers: auth });
  expect(((await verify.json()) as { domain: { status: string; checkedAt: string | null } }).domain).toMatchObject({ status: "pending", checkedAt: expect.any(String) });
  expect((await request.patch(`/api/v1/apps/nope-${stamp()}`, { headers: auth, data: { registryDomain: name } })).status()).toBe(404);

  const other = seedOwner("domains-o", `Domains O ${stamp()}`);
  const otherAuth = { Authorization: `Bearer ${createToken(other.email, other.team.slug)}` };
  expect((await request.post("/api/v1/domains", { headers: otherAuth, data: { name, service: "registry" } })).status()).toBe(409);
  expect((await request.get(`/api/v1/domains/${domain.id}`, { headers: otherAuth })).status()).toBe(404);
  expect((await request.post(`/api/v1/domains/${domain.id}/verify`, { headers: otherAuth })).status()).toBe(404);
  expect((await request.delete(`/api/v1/domains/${domain.id}`, { headers: otherAuth })).status()).toBe(404);

  // The other team's owner opens the first team's domain page: 404.
  const otherPage = await browser.newPage();
  await signIn(otherPage, other.email);
  expect((await otherPage.goto(`/t/${other.team.slug}/settings/domains/${domain.id}`))?.status()).toBe(404);
  await otherPage.close();

  await signIn(page, owner.email);
  const member = await inviteAndAccept(browser, page, owner.team.slug, seedOwner("domains-member").email, "member");
  await member.goto(`/t/${owner.team.slug}/settings/domains`);
  await expect(member.getByTestId(`domain-${name}`)).toBeVisible();
  await expect(member.getByTestId("add-domain-form")).toHaveCount(0);
  await expect(member.getByRole("button", { name: "Verify now" })).toHaveCount(0);
  expect((await member.goto(`/t/${owner.team.slug}/settings/domains/${domain.id}`))?.status()).toBe(200);
  const memberToken = gantryCli(["create-token", "--email", owner.email, "--team", owner.team.slug, "--name", "ro", "--role", "member"]).at(-1) ?? "";
  expect((await request.post("/api/v1/domains", { headers: { Authorization: `Bearer ${memberToken}` }, data: { name: `m-${name}`, service: "proxy" } })).status()).toBe(403);
  expect((await request.get("/api/v1/domains", { headers: { Authorization: `Bearer ${memberToken}` } })).status()).toBe(200);

  expect((await request.delete(`/api/v1/domains/${domain.id}`, { headers: auth })).status()).toBe(204);
  expect((await request.get(`/api/v1/domains/${domain.id}`, { headers: auth })).status()).toBe(404);
});
