import fs from "node:fs";
import crypto from "node:crypto";
import { expect, test } from "./test";
import { e2eServerLog } from "../playwright.config";
import { startRegistry, stopAll, type RunningRegistry } from "../lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "../lib/testing/registries/images";
import { createToken, databaseBytes, inviteAndAccept, seedOwner, signIn } from "./fixtures";

let basic: RunningRegistry;

test.beforeAll(async () => {
  basic = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
  await pushImage(await buildImage({ files: { "e2e.txt": "registries e2e\n" } }), { registry: basic, repo: "acme/api", tag: "1.0", creds: "alice:alice-pw" });
});
test.afterAll(async () => {
  await stopAll();
  cleanupImages();
});

test("add a registry, test it, edit it without retyping the password, and delete it — the password never leaves the server", async ({ page, request }) => {
  const owner = seedOwner("registry-ui");
  const password = "alice-pw";
  await signIn(page, owner.email);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Registries" }).click();
  await expect(page.getByText("No registries yet")).toBeVisible();
  await page.getByRole("link", { name: "Add registry" }).click();

  const form = page.getByTestId("registry-form");
  await form.getByLabel("Name", { exact: true }).fill("Acme private");
  await form.getByLabel("Endpoint").fill(basic.url);
  await form.getByLabel("Username").fill("alice");
  await form.getByLabel("Password or token").fill(password);
  await form.getByRole("button", { name: "Add registry" }).click();
  await expect(page.getByText("Registry added.")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Acme private" })).toBeVisible();

  // Test connection, with an image.
  const test1 = page.getByTestId("test-connection-form");
  await test1.getByLabel("Image to fetch (optional)").fill("acme/api:1.0");
  await test1.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByTestId("test-result")).toHaveAttribute("data-outcome", "ok");
  await expect(page.getByTestId("test-result")).toContainText("the credentials work (Basic auth)");
  await expect(page.getByTestId("test-manifest")).toContainText("application/vnd.oci.image.manifest.v1+json");

  // Edit without retyping the password: it is kept.
  await expect(form.getByLabel("Password or token")).toHaveValue("");
  await expect(form.getByLabel("Password or token")).toHaveAttribute("placeholder", "unchanged");
  await form.getByLabel("Name", { exact: true }).fill("Acme registry");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText("Saved. The password is unchanged.")).toBeVisible();
  await test1.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByTestId("test-result")).toHaveAttribute("data-outcome", "ok");

  // Pointing it at another host needs the password again: the field says so, and nothing is saved.
  const passwordField = form.getByLabel("Password or token");
  await expect(passwordField).toHaveAccessibleDescription(/required when you change the endpoint's host, port or scheme/);
  await form.getByLabel("Endpoint").fill("attacker.example:5000");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(passwordField).toHaveAttribute("aria-invalid", "true");
  await expect(passwordField).toHaveAccessibleDescription(/Enter the password again: the endpoint's scheme, host or port changed\./);
  await expect(form.getByLabel("Endpoint")).toHaveValue("attacker.example:5000");
  await page.reload();
  await expect(form.getByLabel("Endpoint")).toHaveValue(basic.url);
  await test1.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByTestId("test-result")).toHaveAttribute("data-outcome", "ok");

  // The list shows the last test result.
  await page.goto(`/t/${owner.team.slug}/registries`);
  await expect(page.getByTestId("registry-Acme registry")).toContainText("working");

  // The password is nowhere in pages, RSC payloads, the API, logs or the database file.
  const cookies = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
  const registryUrl = (await page.getByRole("link", { name: "Acme registry" }).getAttribute("href")) ?? "";
  for (const path of [`/t/${owner.team.slug}/registries`, registryUrl]) {
    for (const headers of [{ cookie: cookies }, { cookie: cookies, RSC: "1" }] as Record<string, string>[]) {
      const res = await request.get(path, { headers });
      expect(res.status()).toBe(200);
      expect(await res.text()).not.toContain(password);
    }
  }
  const token = createToken(owner.email, owner.team.slug);
  const api = await request.get("/api/v1/registries", { headers: { Authorization: `Bearer ${token}` } });
  expect(await api.text()).not.toContain(password);
  const db = databaseBytes();
  expect(db.includes(Buffer.from("Acme registry"))).toBe(true); // the dump holds the data
  expect(db.includes(Buffer.from(password))).toBe(false);
  expect(fs.readFileSync(e2eServerLog, "utf8")).not.toContain(password);

  // Delete, with a confirmation that names it.
  await page.goto(registryUrl);
  await page.getByRole("button", { name: "Delete registry" }).click();
  await page.getByRole("button", { name: "Delete Acme registry" }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${owner.team.slug}/registries$`));
  await expect(page.getByText("No registries yet")).toBeVisible();
});

test("registries API: create, list, test, patch, delete; errors in the API format; another team's registry is 404", async ({ request }) => {
  const a = seedOwner("registry-api-a");
  const b = seedOwner("registry-api-b");
  const tokenA = createToken(a.email, a.team.slug);
  const tokenB = createToken(b.email, b.team.slug);
  const auth = (t: string) => ({ Authorization: `Bearer ${t}` });
  const secret = `api-secret-${crypto.randomUUID()}`;

  const created = await request.post("/api/v1/registries", {
    headers: auth(tokenA),
    data: { name: "API registry", endpoint: basic.url, username: "alice", password: secret },
  });
  expect(created.status()).toBe(201);
  const { registry } = await created.json();
  expect(registry).toMatchObject({ name: "API registry", endpoint: basic.url, username: "alice", pathName: `127.0.0.1_${basic.port}` });
  expect(JSON.stringify(registry)).not.toContain(secret);

  const bad = await request.post("/api/v1/registries", { headers: auth(tokenA), data: { name: "", endpoint: "http://example.com", username: "u" } });
  expect(bad.status()).toBe(422);
  const badBody = await bad.json();
  expect(badBody.error.code).toBe("VALIDATION");
  expect(Object.keys(badBody.error.fields)).toEqual(expect.arrayContaining(["name", "password"]));
  const notJson = await request.post("/api/v1/registries", { headers: { ...auth(tokenA), "content-type": "text/plain" }, data: "hello" });
  expect(notJson.status()).toBe(400);

  const tested = await request.post(`/api/v1/registries/${registry.id}/test`, { headers: auth(tokenA), data: { image: "acme/api:1.0" } });
  expect(tested.status()).toBe(200);
  expect(await tested.json()).toMatchObject({ ok: false, outcome: "credentials_rejected" });
  const patched = await request.patch(`/api/v1/registries/${registry.id}`, { headers: auth(tokenA), data: { password: "alice-pw" } });
  expect(patched.status()).toBe(200);
  // A new host, port or scheme without the password in the same request: 422, and the registry is unchanged.
  for (const data of [{ endpoint: "attacker.example" }, { endpoint: "attacker.example", password: "" }, { endpoint: `${basic.host.replace(/:\d+$/, "")}:1` }]) {
    const moved = await request.patch(`/api/v1/registries/${registry.id}`, { headers: auth(tokenA), data });
    expect(moved.status(), JSON.stringify(data)).toBe(422);
    expect((await moved.json()).error).toEqual({
      code: "VALIDATION",
      message: "Enter the password again: the endpoint's scheme, host or port changed.",
      fields: { password: ["Enter the password again: the endpoint's scheme, host or port changed."] },
    });
  }
  expect((await (await request.get(`/api/v1/registries/${registry.id}`, { headers: auth(tokenA) })).json()).registry.endpoint).toBe(basic.url);
  const retested = await request.post(`/api/v1/registries/${registry.id}/test`, { headers: auth(tokenA), data: { image: "acme/api:1.0" } });
  expect(await retested.json()).toMatchObject({ ok: true, outcome: "ok", manifest: { status: 200, digest: expect.stringMatching(/^sha256:/) } });

  // Team B cannot see or touch it.
  for (const [method, path] of [
    ["GET", `/api/v1/registries/${registry.id}`],
    ["PATCH", `/api/v1/registries/${registry.id}`],
    ["DELETE", `/api/v1/registries/${registry.id}`],
    ["POST", `/api/v1/registries/${registry.id}/test`],
  ] as const) {
    const res = await request.fetch(path, { method, headers: auth(tokenB), data: method === "GET" || method === "DELETE" ? undefined : { name: "x" } });
    expect(res.status(), `${method} ${path}`).toBe(404);
    expect((await res.json()).error.code).toBe("NOT_FOUND");
  }
  expect((await (await request.get("/api/v1/registries", { headers: auth(tokenB) })).json()).registries).toEqual([]);

  const deleted = await request.delete(`/api/v1/registries/${registry.id}`, { headers: auth(tokenA) });
  expect(deleted.status()).toBe(204);
  expect((await request.get(`/api/v1/registries/${registry.id}`, { headers: auth(tokenA) })).status()).toBe(404);
});

test("another team's registry page is a 404, and members see registries without management controls", async ({ page, browser }) => {
  const a = seedOwner("registry-ten-a");
  const b = seedOwner("registry-ten-b");
  const tokenA = createToken(a.email, a.team.slug);
  const res = await page.request.post("/api/v1/registries", {
    headers: { Authorization: `Bearer ${tokenA}` },
    data: { name: "Tenant A registry", endpoint: basic.url, username: "alice", password: "alice-pw" },
  });
  const { registry } = await res.json();

  await signIn(page, b.email);
  const other = await page.goto(`/t/${b.team.slug}/registries/${registry.id}`);
  expect(other?.status()).toBe(404);
  await expect(page.locator("body")).not.toContainText("Tenant A registry");

  // A member of team A sees the registry but no edit, test or delete controls.
  const member = seedOwner("registry-member");
  const ownerPage = await (await browser.newContext()).newPage();
  await signIn(ownerPage, a.email);
  const memberPage = await inviteAndAccept(browser, ownerPage, a.team.slug, member.email, "member");
  await memberPage.goto(`/t/${a.team.slug}/registries`);
  await expect(memberPage.getByTestId("registry-Tenant A registry")).toBeVisible();
  await expect(memberPage.getByRole("link", { name: "Add registry" })).toHaveCount(0);
  await memberPage.getByRole("link", { name: "Tenant A registry" }).click();
  await expect(memberPage.getByTestId("registry-form")).toHaveCount(0);
  await expect(memberPage.getByTestId("test-connection-form")).toHaveCount(0);
  expect((await memberPage.goto(`/t/${a.team.slug}/registries/new`))?.status()).toBe(404);
});
