import fs from "node:fs";
import { expect, test, type Request } from "./test";
import YAML from "yaml";
import { createToken, gantryCli, inviteAndAccept, seedOwner, signIn } from "./fixtures";

const slugFor = (tag: string) => `${tag}-${Date.now().toString(36)}`.slice(0, 40);

test("create an app and a customer in the browser, download the license file and verify it offline; the slug locks", async ({ page }) => {
  const owner = seedOwner("lic-owner");
  const slug = slugFor("acme-platform");
  await signIn(page, owner.email);

  // Create an app: the slug is suggested from the name, and editable.
  await page.goto(`/t/${owner.team.slug}/apps`);
  const appForm = page.getByTestId("new-app-form");
  await appForm.getByLabel("App name").fill("Acme Platform");
  await expect(appForm.getByLabel("Slug")).toHaveValue("acme-platform");
  await appForm.getByLabel("Slug").fill(slug);
  await appForm.getByRole("button", { name: "Create app" }).click();
  await expect(page).toHaveURL(new RegExp(`/apps/${slug}$`));
  await expect(page.getByText("No customers yet")).toBeVisible();

  // Create a customer with a trial license.
  const customerForm = page.getByTestId("new-customer-form");
  await customerForm.getByLabel("Customer name").fill("Globex Corp");
  await customerForm.getByLabel("Email (optional)").fill("ops@globex.example");
  await customerForm.getByLabel("License type").selectOption("trial");
  const inTwoWeeks = new Date(Date.now() + 14.5 * 86_400_000).toISOString().slice(0, 10);
  await customerForm.getByLabel("Expires (optional)").fill(inTwoWeeks);
  await customerForm.getByRole("button", { name: "Create customer and license" }).click();
  await expect(page.getByText("Customer created with a license.")).toBeVisible();
  await expect(page.getByTestId("license-state")).toHaveText("active");
  await expect(page.getByText(/1[45] days left/)).toBeVisible();
  const licenseId = (await page.getByTestId("license-id").textContent())?.trim() ?? "";
  expect(licenseId).toMatch(/^[A-Za-z0-9_-]{32}$/);

  // Download the signed license file and verify it offline with the public key.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-license").click()]);
  expect(download.suggestedFilename()).toBe(`${slug}-globex-corp-license.yaml`);
  const file = await download.path();
  const doc = YAML.parse(fs.readFileSync(file, "utf8"));
  expect(doc.spec).toMatchObject({ licenseId, appSlug: slug, customerName: "Globex Corp", licenseType: "trial" });
  const keyRes = await page.request.get(`/t/${owner.team.slug}/settings/license-public-key`);
  expect(keyRes.status()).toBe(200);
  const keyFile = `${file}.pem`;
  fs.writeFileSync(keyFile, await keyRes.text());
  const verify = JSON.parse(gantryCli(["verify-license", file, "--key", keyFile]).at(-1) ?? "{}");
  expect(verify).toMatchObject({ valid: true, state: "active", app: slug });

  // The slug is now locked.
  await page.goto(`/t/${owner.team.slug}/apps/${slug}`);
  await expect(page.getByTestId("slug-locked")).toContainText(slug);
});

// The same customer page, reached by an admin and a member: its app and customer are made
// through the API (the browser flow above covers making them by hand), so each test stays
// well inside its time budget when the suite runs in parallel.
test("an admin revokes with confirmation and restores; a member sees no revoke button and cannot forge the admin's action", async ({ page, browser, request }) => {
  const owner = seedOwner("lic-owner");
  const slug = slugFor("acme-revoke");
  const token = createToken(owner.email, owner.team.slug);
  const auth = { Authorization: `Bearer ${token}` };
  expect((await request.post("/api/v1/apps", { headers: auth, data: { name: "Acme Platform", slug } })).status()).toBe(201);
  const created = await request.post(`/api/v1/apps/${slug}/customers`, { headers: auth, data: { name: "Globex Corp", type: "trial", expiresAt: "2098-01-01" } });
  expect(created.status()).toBe(201);
  const customer = (await created.json()) as { id: string; license: { licenseId: string } };
  const licenseId = customer.license.licenseId;
  expect(licenseId).toMatch(/^[A-Za-z0-9_-]{32}$/);
  const customerUrl = `/t/${owner.team.slug}/apps/${slug}/customers/${customer.id}`;
  await signIn(page, owner.email);

  // An admin revokes with a confirmation naming the customer, sees the badge change, and restores.
  const admin = seedOwner("lic-admin");
  const adminPage = await inviteAndAccept(browser, page, owner.team.slug, admin.email, "admin");
  await adminPage.goto(customerUrl);
  await adminPage.getByRole("button", { name: "Revoke license" }).click();
  await expect(adminPage.getByRole("dialog")).toContainText("Revoke Globex Corp's license?");
  await adminPage.getByRole("dialog").getByLabel(/Reason/).fill("trial abuse");
  await adminPage.getByRole("button", { name: "Revoke Globex Corp" }).click();
  await expect(adminPage.getByTestId("license-state")).toHaveText("revoked");
  await expect(adminPage.getByTestId("revoked-info")).toContainText(`by ${admin.email}`);
  await expect(adminPage.getByTestId("revoked-info")).toContainText("trial abuse");
  await adminPage.goto(`/t/${owner.team.slug}/customers?state=revoked`);
  await expect(adminPage.getByTestId("customer-Globex Corp")).toContainText("revoked");
  await adminPage.goto(customerUrl);
  await adminPage.getByRole("button", { name: "Restore license" }).click();
  await expect(adminPage.getByRole("dialog")).toContainText("Restore Globex Corp's license?");
  await adminPage.getByRole("button", { name: "Restore Globex Corp" }).click();
  await expect(adminPage.getByTestId("license-state")).toHaveText("active");

  // A member sees the state and a fingerprint, but no license ID and no revoke button.
  const member = seedOwner("lic-member");
  const memberPage = await inviteAndAccept(browser, page, owner.team.slug, member.email, "member");
  await memberPage.goto(customerUrl);
  await expect(memberPage.getByTestId("license-state")).toHaveText("active");
  await expect(memberPage.getByTestId("license-fingerprint")).toBeVisible();
  await expect(memberPage.getByTestId("license-id")).toHaveCount(0);
  await expect(memberPage.locator("body")).not.toContainText(licenseId);
  await expect(memberPage.getByRole("button", { name: /Revoke/ })).toHaveCount(0);
  await expect(memberPage.getByTestId("download-license")).toHaveCount(0);
  expect((await memberPage.request.get(`${customerUrl}/license`)).status()).toBe(403);

  // A member's direct call of an admin action (the admin's own request, replayed with the member's session) is refused on the server.
  const captured: { action: string; contentType: string; body: Buffer }[] = [];
  const onRequest = (r: Request) => {
    const action = r.headers()["next-action"];
    const body = r.postDataBuffer();
    if (action && body) captured.push({ action, contentType: r.headers()["content-type"] ?? "", body });
  };
  adminPage.on("request", onRequest);
  await adminPage.getByTestId("expiry-form").getByLabel("Expires on").fill("2099-01-01");
  await adminPage.getByTestId("expiry-form").getByRole("button", { name: "Save expiry" }).click();
  await expect(adminPage.getByText("Expiry set to 2099-01-01.", { exact: false })).toBeVisible();
  adminPage.off("request", onRequest);
  const call = captured.at(-1);
  expect(call?.body.toString()).toContain("2099-01-01");
  const forged = await memberPage.request.post(customerUrl, {
    headers: { "Next-Action": call?.action ?? "", "Content-Type": call?.contentType ?? "", Accept: "text/x-component" },
    data: Buffer.from((call?.body.toString() ?? "").replace("2099-01-01", "2000-01-01")),
  });
  expect(await forged.text()).toContain("Your role does not allow this.");
  await adminPage.reload();
  await expect(adminPage.getByTestId("license-state")).toHaveText("active");
  await expect(adminPage.getByText("2099-01-01")).toBeVisible();
});

test("apps, customers and licenses API: happy paths, every error code, roles and cross-tenant 404s", async ({ request }) => {
  const a = seedOwner("lic-api-a");
  const b = seedOwner("lic-api-b");
  const tokenA = createToken(a.email, a.team.slug);
  const tokenB = createToken(b.email, b.team.slug);
  const readOnly = gantryCli(["create-token", "--email", a.email, "--team", a.team.slug, "--name", "ro", "--role", "member"]).at(-1) ?? "";
  const auth = (t: string) => ({ Authorization: `Bearer ${t}` });
  const slug = slugFor("api-app");

  const app = await request.post("/api/v1/apps", { headers: auth(tokenA), data: { name: "API App", slug } });
  expect(app.status()).toBe(201);
  expect(await app.json()).toEqual({ id: expect.any(String), name: "API App", slug });
  const taken = await request.post("/api/v1/apps", { headers: auth(tokenB), data: { name: "Dup", slug } });
  expect(taken.status()).toBe(409);
  expect((await taken.json()).error).toMatchObject({ code: "CONFLICT", fields: { slug: [expect.any(String)] } });
  const invalid = await request.post("/api/v1/apps", { headers: auth(tokenA), data: { name: "X", slug: "Bad Slug" } });
  expect(invalid.status()).toBe(422);
  expect((await invalid.json()).error.fields.slug).toBeDefined();
  expect((await request.post("/api/v1/apps", { headers: { ...auth(tokenA), "content-type": "application/json" }, data: Buffer.from("{not json") })).status()).toBe(400);
  expect((await request.get("/api/v1/apps", { headers: { Authorization: "Bearer nope" } })).status()).toBe(401);
  expect((await (await request.get("/api/v1/apps", { headers: auth(tokenA) })).json()).apps).toEqual([expect.objectContaining({ slug, customerCount: 0 })]);

  const created = await request.post(`/api/v1/apps/${slug}/customers`, {
    headers: auth(tokenA),
    data: { name: "Wayne Enterprises", email: "it@wayne.example", type: "paid", expiresAt: "2099-12-31" },
  });
  expect(created.status()).toBe(201);
  const customer = await created.json();
  // The license ID (the customer's password) comes back once, in the body; URLs use the row id or the fingerprint.
  expect(customer).toMatchObject({
    id: expect.any(String),
    name: "Wayne Enterprises",
    license: { id: expect.any(String), fingerprint: expect.stringMatching(/^[0-9a-f]{8}$/), licenseId: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/), state: "active", expiresAt: "2099-12-31T23:59:59.999Z" },
  });
  const { id: licenseRowId, fingerprint, licenseId } = customer.license as { id: string; fingerprint: string; licenseId: string };
  expect(licenseRowId).not.toBe(licenseId);
  expect((await request.post(`/api/v1/apps/${slug}/customers`, { headers: auth(tokenA), data: { name: "", type: "gold" } })).status()).toBe(422);
  const list = await (await request.get(`/api/v1/apps/${slug}/customers?q=wayne`, { headers: auth(tokenA) })).json();
  expect(list.customers).toEqual([expect.objectContaining({ name: "Wayne Enterprises", license: expect.objectContaining({ id: licenseRowId, fingerprint, state: "active" }) })]);
  expect(JSON.stringify(list)).not.toContain(licenseId);

  // A read-only (member) token can list but not revoke.
  expect((await request.get(`/api/v1/apps/${slug}/customers`, { headers: auth(readOnly) })).status()).toBe(200);
  const forbidden = await request.post(`/api/v1/licenses/${licenseRowId}/revoke`, { headers: auth(readOnly), data: {} });
  expect(forbidden.status()).toBe(403);
  expect((await forbidden.json()).error.code).toBe("FORBIDDEN");

  // Revoke by row id, restore by fingerprint; the answers carry neither the license ID nor a secret.
  const revoked = await request.post(`/api/v1/licenses/${licenseRowId}/revoke`, { headers: auth(tokenA), data: { reason: "chargeback" } });
  expect(revoked.status()).toBe(200);
  const revokedBody = await revoked.json();
  expect(revokedBody.license).toMatchObject({ id: licenseRowId, fingerprint, state: "revoked", revokeReason: "chargeback", customer: { id: customer.id } });
  expect(JSON.stringify(revokedBody)).not.toContain(licenseId);
  expect((await request.post(`/api/v1/licenses/${fingerprint}/revoke`, { headers: auth(tokenA), data: {} })).status()).toBe(409);
  const restored = await request.post(`/api/v1/licenses/${fingerprint}/restore`, { headers: auth(tokenA) });
  expect(restored.status()).toBe(200);
  expect((await restored.json()).license).toMatchObject({ id: licenseRowId, state: "active", revokedAt: null });

  for (const ref of [licenseRowId, fingerprint]) {
    const file = await request.get(`/api/v1/licenses/${ref}/file`, { headers: auth(tokenA) });
    expect(file.status(), ref).toBe(200);
    expect(file.headers()["content-type"]).toContain("application/yaml");
    expect(YAML.parse(await file.text()).spec).toMatchObject({ licenseId, appSlug: slug, customerName: "Wayne Enterprises" });
    const pulls = await request.get(`/api/v1/licenses/${ref}/pulls`, { headers: auth(readOnly) });
    expect(pulls.status(), ref).toBe(200);
    expect(await pulls.json()).toEqual({ pulls: [] });
  }
  expect((await request.get(`/api/v1/licenses/${licenseRowId}/file`, { headers: auth(readOnly) })).status()).toBe(403);

  // Team B: every path to A's app, customers and license (by row id or fingerprint) is a 404.
  for (const [method, path] of [
    ["GET", `/api/v1/apps/${slug}/customers`],
    ["POST", `/api/v1/apps/${slug}/customers`],
    ...[licenseRowId, fingerprint].flatMap((ref) => [
      ["POST", `/api/v1/licenses/${ref}/revoke`],
      ["POST", `/api/v1/licenses/${ref}/restore`],
      ["GET", `/api/v1/licenses/${ref}/file`],
      ["GET", `/api/v1/licenses/${ref}/pulls`],
    ]),
  ] as const) {
    const res = await request.fetch(path, { method, headers: auth(tokenB), data: method === "POST" ? { name: "x" } : undefined });
    expect(res.status(), `${method} ${path}`).toBe(404);
    expect((await res.json()).error.code).toBe("NOT_FOUND");
  }
  expect((await request.post(`/api/v1/licenses/cnosuchlicense00000000000/revoke`, { headers: auth(tokenA), data: {} })).status()).toBe(404);
  expect((await request.post(`/api/v1/licenses/00000000/revoke`, { headers: auth(tokenA), data: {} })).status()).toBe(404);
  // The license ID itself is refused, for another team's caller too: it is never looked up.
  expect((await request.post(`/api/v1/licenses/${licenseId}/revoke`, { headers: auth(tokenB), data: {} })).status()).toBe(400);
  const still = await (await request.get(`/api/v1/apps/${slug}/customers`, { headers: auth(tokenA) })).json();
  expect(still.customers[0].license.state).toBe("active");
});

test("another team's app and customer pages are 404", async ({ page }) => {
  const a = seedOwner("lic-ten-a");
  const b = seedOwner("lic-ten-b");
  const tokenA = createToken(a.email, a.team.slug);
  const slug = slugFor("tenant-app");
  await page.request.post("/api/v1/apps", { headers: { Authorization: `Bearer ${tokenA}` }, data: { name: "Tenant App", slug } });
  const c = await (await page.request.post(`/api/v1/apps/${slug}/customers`, { headers: { Authorization: `Bearer ${tokenA}` }, data: { name: "Secret Customer" } })).json();
  await signIn(page, b.email);
  for (const path of [`/t/${b.team.slug}/apps/${slug}`, `/t/${b.team.slug}/apps/${slug}/customers/${c.id}`, `/t/${a.team.slug}/apps/${slug}`]) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(404);
    await expect(page.locator("body")).not.toContainText("Secret Customer");
  }
  expect((await page.request.get(`/t/${b.team.slug}/apps/${slug}/customers/${c.id}/license`)).status()).toBe(404);
});
