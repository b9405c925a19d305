import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { signUp } from "@/lib/auth/sign-up";
import { createApp } from "@/lib/apps/apps";
import { setExtraPatterns } from "@/lib/releases/scope";
import { createCustomer } from "@/lib/licenses/customers";
import { handleRegistryRequest } from "@/lib/proxy/handler";
import { teamContextForUser } from "@/lib/teams/access";

/**
 * License authentication at /v2/token and on /v2/<repo>/… with Basic: scope
 * parsing (linear, capped, malformed → 400), the license checked whatever the
 * scopes, and failed attempts counted atomically on every path that takes a license.
 */
let proxy: http.Server;
let base = "";
let license = "";
const slug = `auth-${Date.now().toString(36)}`;
const basic = (secret: string) => ({ authorization: `Basic ${Buffer.from(`LICENSE_ID:${secret}`).toString("base64")}` });
const unknownLicense = () => basic("Q".repeat(31) + String.fromCharCode(65 + Math.floor(Math.random() * 26)));
const clearFailures = () => db.rateLimitBucket.deleteMany({ where: { key: { startsWith: "proxy-auth:" } } });

beforeAll(async () => {
  proxy = http.createServer((req, res) => void handleRegistryRequest(req, res, { clientIp: req.socket.remoteAddress ?? null }));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const { user, team } = await signUp({ email: `auth-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Auth" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Auth", slug });
  // Scope (releases and patterns) is tested in lib/proxy/scope.int.test.ts; here every repository is in scope.
  await setExtraPatterns(ctx, slug, ["**"]);
  license = (await createCustomer(ctx, slug, { name: "Customer" })).license.licenseId;
});
afterAll(async () => {
  await clearFailures();
  proxy.close();
});
beforeEach(clearFailures);

const token = (scopes: string[], headers: Record<string, string>) => {
  const q = scopes.map((s) => `scope=${encodeURIComponent(s)}`).join("&");
  return fetch(`${base}/v2/token?service=x${q ? `&${q}` : ""}`, { headers });
};

describe("/v2/token scopes", () => {
  it("grants pull on the app's repositories and nothing on other resources", async () => {
    const res = await token([`repository:proxy/${slug}/quay.io/acme/api:pull`, "registry:catalog:*"], basic(license));
    expect(res.status).toBe(200);
    const { token: jwt } = (await res.json()) as { token: string };
    const payload = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()) as { access: unknown[] };
    expect(payload.access).toEqual([{ type: "repository", name: `proxy/${slug}/quay.io/acme/api`, actions: ["pull"] }]);
  });

  it("answers the OAuth2 password grant (POST, what containerd sends) like GET, and refuses other forms in the registry format", async () => {
    const post = (body: string, type = "application/x-www-form-urlencoded") => fetch(`${base}/v2/token`, { method: "POST", headers: { "content-type": type }, body });
    const scope = `repository:proxy/${slug}/quay.io/acme/api:pull registry:catalog:*`;
    const ok = await post(new URLSearchParams({ grant_type: "password", username: "LICENSE_ID", password: license, service: "x", scope, client_id: "containerd-client" }).toString());
    expect(ok.status).toBe(200);
    const { access_token: jwt } = (await ok.json()) as { access_token: string };
    const payload = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()) as { access: unknown[] };
    expect(payload.access).toEqual([{ type: "repository", name: `proxy/${slug}/quay.io/acme/api`, actions: ["pull"] }]);
    const wrong = await post(new URLSearchParams({ grant_type: "password", username: "x", password: "Q".repeat(32) }).toString());
    expect(wrong.status).toBe(401);
    for (const [body, type] of [
      [new URLSearchParams({ grant_type: "refresh_token", refresh_token: "x" }).toString(), "application/x-www-form-urlencoded"],
      ["{}", "application/json"],
      [`grant_type=password&password=${"a".repeat(20_000)}`, "application/x-www-form-urlencoded"],
    ] as const) {
      const res = await post(body, type);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ errors: [expect.objectContaining({ code: "UNSUPPORTED", message: expect.any(String) })] });
    }
  });

  it("refuses malformed scopes with 400 in the registry error format", async () => {
    for (const bad of ["repository:proxy/x/../y:pull", "repository", "repository:proxy/a/b/c:", `repository:${"a/".repeat(300)}b:pull`]) {
      const res = await token([bad], basic(license));
      expect(res.status, bad).toBe(400);
      expect(await res.json()).toEqual({ errors: [expect.objectContaining({ code: expect.any(String), message: expect.stringMatching(/scope/i) })] });
    }
  });

  it("refuses 10,000 scopes in one request quickly, without issuing a token", async () => {
    const scopes = (n: number) => Array.from({ length: n }, (_, i) => `repository:proxy/${slug}/q/r${i}:pull`);
    // 10,000 scopes do not fit in a request line: Node's 16 KB header limit answers 431 before Gantry parses anything.
    const huge = await token(scopes(10_000), basic(license));
    expect([400, 431]).toContain(huge.status);
    // As many as fit (as separate params and as one space-separated param): Gantry refuses past 10, fast.
    for (const params of [scopes(120), [scopes(120).join(" ")]]) {
      const started = performance.now();
      const res = await token(params, basic(license));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: { message: string }[] }).errors[0]?.message).toMatch(/scope/i);
      expect(performance.now() - started).toBeLessThan(500);
    }
    expect((await token(scopes(10), basic(license))).status).toBe(200);
  });

  it("a 14 KB scope does not hold the event loop (linear parsing)", async () => {
    const long = `repository:${"a".repeat(14 * 1024)}:${"p".repeat(16)}`; // near the 16 KB request-line limit
    const started = performance.now();
    const res = await token([long], basic(license));
    expect(res.status).toBe(400);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it("checks the license even when no scope names a proxied repository", async () => {
    const res = await token(["repository:library/ubuntu:pull"], unknownLicense());
    expect(res.status).toBe(401);
    const failures = await db.rateLimitBucket.findMany({ where: { key: { startsWith: "proxy-auth:" } } });
    expect(failures.reduce((a, b) => a + b.count, 0)).toBe(1);
  });
});

describe("failed license attempts", () => {
  it("count on /v2/<repo>/… with Basic too, until the address is refused with 429", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await fetch(`${base}/v2/proxy/${slug}/quay.io/acme/api/manifests/1`, { headers: unknownLicense() })).status);
    expect(statuses.slice(0, 20).every((s) => s === 401 || s === 403)).toBe(true);
    expect(statuses[20]).toBe(429);
    // Now even the right license is refused from this address, on both paths.
    const viaToken = await token([`repository:proxy/${slug}/quay.io/acme/api:pull`], basic(license));
    expect(viaToken.status).toBe(429);
    expect(viaToken.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await fetch(`${base}/v2/`, { headers: basic(license) })).status).toBe(429);
  });

  it("malformed license IDs on /v2/ with Basic count as failures", async () => {
    for (let i = 0; i < 3; i++) expect((await fetch(`${base}/v2/`, { headers: basic(`nope-${i}`) })).status).toBe(401);
    const failures = await db.rateLimitBucket.findMany({ where: { key: { startsWith: "proxy-auth:" } } });
    expect(failures.reduce((a, b) => a + b.count, 0)).toBe(3);
  });

  it("GET /v2/ with Basic checks that the license exists", async () => {
    expect((await fetch(`${base}/v2/`, { headers: unknownLicense() })).status).toBe(401);
    expect((await fetch(`${base}/v2/`, { headers: basic(license) })).status).toBe(200);
  });

  it("a parallel burst cannot exceed the limit: at most 20 answers say anything about the guesses", async () => {
    const statuses = await Promise.all(Array.from({ length: 60 }, () => token([`repository:proxy/${slug}/quay.io/acme/api:pull`], unknownLicense()).then((r) => r.status)));
    // Each failure is counted by one atomic increment and judged by the count it returned.
    expect(statuses.filter((s) => s === 401)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(40);
  });
});
