import { expect, test, type APIResponse, type Page, type Request, type Response } from "./test";
import { PASSWORD, createToken, seedOwner, signIn, uniqueEmail } from "./fixtures";

const slugFor = (tag: string) => `${tag}-${Date.now().toString(36)}`.slice(0, 40);

/**
 * Records every CSP violation a page reports, both ways: the console message
 * Chromium prints ("Refused to … because it violates the following Content
 * Security Policy directive …") and the DOM's `securitypolicyviolation` event.
 */
async function watchCsp(page: Page): Promise<string[]> {
  const violations: string[] = [];
  page.on("console", (m) => {
    if (m.text().includes("Content Security Policy")) violations.push(`console: ${m.text()}`);
  });
  await page.exposeFunction("__gantryCspViolation", (v: string) => violations.push(`event: ${v}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as unknown as { __gantryCspViolation: (v: string) => void }).__gantryCspViolation(
        `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`,
      );
    });
  });
  return violations;
}

function nonceOf(csp: string | undefined): string {
  return /'nonce-([^']+)'/.exec(csp ?? "")?.[1] ?? "";
}

/** Headers every portal page carries; returns the nonce of its policy. */
function expectPageHeaders(headers: Record<string, string>, what: string): string {
  const csp = headers["content-security-policy"] ?? "";
  for (const directive of [
    "default-src 'self'",
    "'strict-dynamic'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ]) {
    expect(csp, `${what}: CSP has ${directive}`).toContain(directive);
  }
  expect(csp, `${what}: no eval in production`).not.toContain("unsafe-eval");
  expect(/script-src [^;]*'unsafe-inline'/.test(csp), `${what}: no inline scripts`).toBe(false);
  expect(headers["x-content-type-options"], what).toBe("nosniff");
  expect(headers["x-frame-options"], what).toBe("DENY");
  expect(headers["referrer-policy"], what).toBe("same-origin");
  expect(headers["strict-transport-security"], `${what}: no HSTS over plain http`).toBeUndefined();
  const nonce = nonceOf(csp);
  expect(nonce, `${what}: nonce`).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  return nonce;
}

/** Visits a page and checks its headers, and that Next's scripts carry this response's nonce. */
async function visit(page: Page, path: string, status = 200): Promise<string> {
  const response = (await page.goto(path)) as Response;
  expect(response.status(), path).toBe(status);
  const nonce = expectPageHeaders(await response.allHeaders(), path);
  await page.waitForLoadState("load");
  const scriptNonces = await page.evaluate(() => Array.from(document.querySelectorAll("script"), (s) => s.nonce));
  // Next's scripts carry this response's nonce; chunks loaded later may carry none ('strict-dynamic' admits them).
  expect(scriptNonces.filter((n) => n === nonce).length, `${path}: scripts with the nonce`).toBeGreaterThan(0);
  expect(scriptNonces.filter((n) => n && n !== nonce), `${path}: no other nonce`).toEqual([]);
  return nonce;
}

test("every page sends a nonce CSP its scripts satisfy, and still works", async ({ page }) => {
  const violations = await watchCsp(page);

  // Signed out: sign-in (twice: the nonce is fresh per response), sign-up, a 404, and / (which redirects).
  const first = await visit(page, "/sign-in");
  const second = await visit(page, "/sign-in");
  expect(second).not.toBe(first);
  await visit(page, "/no-such-page-anywhere", 404);
  await expect(page.getByText("This page does not exist")).toBeVisible();
  await visit(page, "/");
  await expect(page).toHaveURL(/\/sign-in/);

  // Sign up through the form (a server action, then a client-side navigation).
  await visit(page, "/sign-up");
  await page.getByLabel("Your name").fill("Csp Vendor");
  await page.getByLabel("Work email").fill(uniqueEmail("csp"));
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Team name").fill("Csp Software");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/t\/csp-software[a-z0-9-]*\/apps$/);
  const team = /\/t\/([^/]+)\/apps$/.exec(page.url())?.[1] ?? "";

  for (const p of ["", "/apps", "/registries", "/registries/new", "/customers", "/settings", "/activity"]) await visit(page, `/t/${team}${p}`);
  await visit(page, `/t/${team}/no-such-thing`, 404);

  // Scripts run: the app form suggests a slug as you type (client-side state).
  await visit(page, `/t/${team}/apps`);
  const slug = slugFor("csp-app");
  const appForm = page.getByTestId("new-app-form");
  await appForm.getByLabel("App name").fill("Csp Platform");
  await expect(appForm.getByLabel("Slug")).toHaveValue("csp-platform");
  await appForm.getByLabel("Slug").fill(slug);
  await appForm.getByRole("button", { name: "Create app" }).click();
  await expect(page).toHaveURL(new RegExp(`/apps/${slug}$`));
  await visit(page, `/t/${team}/apps/${slug}`);
  const customerForm = page.getByTestId("new-customer-form");
  await customerForm.getByLabel("Customer name").fill("Globex Csp");
  await customerForm.getByRole("button", { name: "Create customer and license" }).click();
  await expect(page.getByText("Customer created with a license.")).toBeVisible();
  const customerPath = new URL(page.url()).pathname;
  await visit(page, customerPath);

  // A Radix dialog (portal, focus trap, scroll lock with an injected <style>) opens and closes.
  await page.getByRole("button", { name: "Revoke license" }).click();
  await expect(page.getByRole("dialog")).toContainText("Revoke Globex Csp's license?");
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog")).toHaveCount(0);

  // The Images page streams a preview from its route handler (a same-origin fetch POST).
  await visit(page, `/t/${team}/apps/${slug}/images`);
  await page.getByLabel("Manifests").fill('apiVersion: v1\nkind: Pod\nmetadata: { name: x }\nspec:\n  containers:\n    - { name: bad, image: "Not/Valid" }\n');
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.locator('[data-testid="preview-row"][data-status="invalid"]')).toBeVisible();

  // Client-side navigation through the main menu.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Activity" }).click();
  await expect(page.getByTestId("activity-table")).toContainText("created the team");

  expect(violations).toEqual([]);
});

test("the violation watcher does catch a violation (so zero above means zero)", async ({ page, allowConsoleErrors }) => {
  allowConsoleErrors(/violates the following Content Security Policy directive/); // provoked below
  const violations = await watchCsp(page);
  await visit(page, "/sign-in");
  await page.evaluate(() => {
    const img = document.createElement("img");
    img.src = "https://blocked.example/pixel.png";
    document.body.append(img);
  });
  await expect.poll(() => violations.filter((v) => v.startsWith("event: img-src")).length).toBe(1);
  await expect.poll(() => violations.some((v) => v.startsWith("console:"))).toBe(true);
});

test("headers on API JSON, downloads and the registry API; no HSTS over http even with a forged X-Forwarded-Proto", async ({ request }) => {
  const owner = seedOwner("hdr");
  const token = createToken(owner.email, owner.team.slug);
  const json = await request.get("/api/v1/team", { headers: { Authorization: `Bearer ${token}` } });
  expect(json.status()).toBe(200);
  const check = (res: APIResponse, what: string) => {
    const h = res.headers();
    expect(h["x-content-type-options"], what).toBe("nosniff");
    expect(h["strict-transport-security"], what).toBeUndefined();
  };
  check(json, "api json");
  expect(json.headers()["x-frame-options"]).toBe("DENY");
  expect(json.headers()["referrer-policy"]).toBe("same-origin");
  expect(json.headers()["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");

  const registry = await request.get("/v2/");
  expect(registry.status()).toBe(401);
  check(registry, "/v2/");

  // Gantry's e2e server trusts no proxy: a client's X-Forwarded-Proto must not turn HSTS on.
  for (const path of ["/sign-in", "/v2/", "/api/v1/team"]) {
    check(await request.get(path, { headers: { "X-Forwarded-Proto": "https" } }), `${path} with forged proto`);
  }
});

test("license IDs, license files and new API tokens are sent with Cache-Control: no-store", async ({ page }) => {
  const owner = seedOwner("nostore");
  const api = createToken(owner.email, owner.team.slug);
  const auth = { Authorization: `Bearer ${api}` };
  const slug = slugFor("nostore");
  expect((await page.request.post("/api/v1/apps", { headers: auth, data: { name: "No Store", slug } })).status()).toBe(201);
  const customer = (await (await page.request.post(`/api/v1/apps/${slug}/customers`, { headers: auth, data: { name: "Initech" } })).json()) as { id: string };
  await signIn(page, owner.email);

  const customerPath = `/t/${owner.team.slug}/apps/${slug}/customers/${customer.id}`;
  const pageRes = (await page.goto(customerPath)) as Response;
  await expect(page.getByTestId("license-id")).toBeVisible();
  expect(pageRes.headers()["cache-control"]).toContain("no-store");

  const file = await page.request.get(`${customerPath}/license`);
  expect(file.status()).toBe(200);
  expect(file.headers()["cache-control"]).toContain("no-store");
  expect(file.headers()["x-content-type-options"]).toBe("nosniff");
  expect(file.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");

  // The server action response that carries a freshly created API token.
  await page.goto(`/t/${owner.team.slug}/settings`);
  const form = page.getByTestId("create-token-form");
  await form.getByLabel("Token name").fill("ci-no-store");
  const [actionRes] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && (r.request().postData() ?? "").includes("ci-no-store")),
    form.getByRole("button", { name: "Create token" }).click(),
  ]);
  expect(actionRes.request().headers()["next-action"]).toBeTruthy();
  await expect(page.getByTestId("new-token-value")).toContainText("gnt_");
  expect(actionRes.status()).toBe(200);
  expect(actionRes.headers()["cache-control"]).toContain("no-store");
});

test("portal route handlers refuse a state-changing request without a same-host Origin", async ({ page, baseURL }) => {
  const owner = seedOwner("origin");
  const api = createToken(owner.email, owner.team.slug);
  const slug = slugFor("origin");
  expect((await page.request.post("/api/v1/apps", { headers: { Authorization: `Bearer ${api}` }, data: { name: "Origin", slug } })).status()).toBe(201);
  await signIn(page, owner.email);
  const preview = `/t/${owner.team.slug}/apps/${slug}/images/preview`;
  const data = { images: ["Not/Valid"] };

  const refused: Record<string, string>[] = [{ Origin: "https://evil.example" }, {}, { Origin: "null" }, { Origin: "http://127.0.0.1:1" }];
  for (const headers of refused) {
    const res = await page.request.post(preview, { headers, data });
    expect(res.status(), JSON.stringify(headers)).toBe(403);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "FORBIDDEN", message: expect.any(String) });
  }
  const ok = await page.request.post(preview, { headers: { Origin: baseURL ?? "" }, data });
  expect(ok.status()).toBe(200);
  expect(await ok.text()).toContain('"type":"done"');
});

test("Next refuses a forged cross-origin server action (renaming the team)", async ({ page, baseURL }) => {
  const owner = seedOwner("csrf", `Csrf Team ${Date.now()}`);
  await signIn(page, owner.email);
  await page.goto(`/t/${owner.team.slug}/settings`);

  // Capture the browser's own rename call, to replay it.
  const captured: { action: string; contentType: string; body: string }[] = [];
  const onRequest = (r: Request) => {
    const action = r.headers()["next-action"];
    const body = r.postData();
    if (action && body) captured.push({ action, contentType: r.headers()["content-type"] ?? "", body });
  };
  page.on("request", onRequest);
  await page.getByLabel("Team name").fill("Renamed By Owner");
  await page.getByRole("button", { name: "Rename" }).click();
  await expect(page.getByText("Team renamed.")).toBeVisible();
  page.off("request", onRequest);
  const call = captured.at(-1);
  expect(call?.body).toContain("Renamed By Owner");

  const replay = (origin: string, name: string) =>
    page.request.post(`/t/${owner.team.slug}/settings`, {
      headers: { "Next-Action": call?.action ?? "", "Content-Type": call?.contentType ?? "", Accept: "text/x-component", Origin: origin },
      data: Buffer.from((call?.body ?? "").replace("Renamed By Owner", name)),
    });

  // Same session cookie, foreign Origin: refused, nothing renamed.
  const forged = await replay("https://evil.example", "Pwned Team");
  expect(forged.status()).toBe(500);
  expect(await forged.text()).not.toContain("Team renamed.");
  await page.reload();
  await expect(page.getByTestId("current-team")).toHaveText("Renamed By Owner");

  // Control: the same replay with the right Origin goes through, so the Origin alone made the difference.
  const same = await replay(baseURL ?? "", "Replayed Team");
  expect(same.status()).toBe(200);
  await page.reload();
  await expect(page.getByTestId("current-team")).toHaveText("Replayed Team");
});
