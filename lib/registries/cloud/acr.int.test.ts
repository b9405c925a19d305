import crypto from "node:crypto";
import nodeHttp from "node:http";
import { decodeJwt, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { clearChallengeCache, defaultHttpOptions, RegistryClient } from "@/lib/registry-client/client";
import { TokenCache } from "@/lib/registry-client/token-cache";
import { ACR_REFRESH_USER, startAcrStandIn, type AcrStandIn } from "@/lib/testing/cloud/acr-standin";
import { stopAll } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";
import { ACR_TOKEN_USERNAME, acrConfigSchema, describeAcrIdentity, mintAcrCredentials } from "./acr";
import { cloudTransport } from "./transport";
import { CloudCredentialError } from "./types";

const http = defaultHttpOptions(["127.0.0.1/32"]);
const FOREIGN_TENANT = "0f0f0f0f-1111-2222-3333-444444444444";
const FOREIGN_APP = { clientId: "0e0e0e0e-5555-6666-7777-888888888888", secret: `foreign~${crypto.randomBytes(12).toString("hex")}` };

let acr: AcrStandIn;
let digest: string;

/** The transport production builds: the authority host is the operator's endpoint, loopback allowed for it. */
const transport = (o: { allowed?: string[]; timeoutMs?: number; authority?: string } = {}) =>
  cloudTransport({ operatorEndpoints: [o.authority ?? acr.authorityHost], allowedPrivateHosts: o.allowed ?? ["127.0.0.1/32"], extraCa: acr.ca, timeoutMs: o.timeoutMs });
const sp = () => ({ tenantId: acr.tenantId, clientId: acr.clientId, clientSecret: acr.clientSecret, ambient: false });
const target = (o: { endpoint?: string; authorityHost?: string } = {}) => ({ endpoint: o.endpoint ?? acr.endpoint, http, authorityHost: o.authorityHost ?? acr.authorityHost });

/** The error a mint fails with (and that it failed). */
async function mintError(...args: Parameters<typeof mintAcrCredentials>): Promise<CloudCredentialError> {
  const e = await mintAcrCredentials(...args).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CloudCredentialError);
  return e as CloudCredentialError;
}

beforeAll(async () => {
  acr = await startAcrStandIn({ otherTenants: [{ id: FOREIGN_TENANT, apps: [FOREIGN_APP] }], refreshTokenLifetimeSeconds: 600 });
  const img = await buildImage({ files: { "acr.txt": "acr\n" } });
  ({ digest } = await pushImage(img, { registry: acr.registry, repo: "vendor/app", tag: "v1", creds: acr.seedCredentials }));
});
afterAll(async () => {
  await acr?.stop();
  await stopAll();
  cleanupImages();
});
beforeEach(() => {
  acr.hang(null);
  acr.setRefreshTokenLifetime(600);
  acr.entra.setTokenLifetime(3599);
  clearChallengeCache();
});

describe("mintAcrCredentials against the ACR and Entra stand-ins", () => {
  it("mints ACR's refresh token as the password of the all-zero user, expiring at the token's exp", async () => {
    const before = acr.counters();
    const minted = await mintAcrCredentials(sp(), transport(), target());
    expect(minted.username).toBe(ACR_TOKEN_USERNAME);
    expect(minted.username).toBe(ACR_REFRESH_USER);
    const claims = decodeJwt(minted.password);
    expect(claims).toMatchObject({ aud: acr.service, tenant: acr.tenantId, sub: acr.clientId, iss: "Azure Container Registry" });
    expect(minted.expiresAt).toBe((claims.exp ?? 0) * 1000);
    expect(minted.expiresAt - Date.now()).toBeGreaterThan(590_000);
    expect(minted.expiresAt - Date.now()).toBeLessThanOrEqual(600_000);
    expect(acr.isValid(minted.username, minted.password)).toBe(true);
    expect(acr.counters()).toMatchObject({ entraTokens: before.entraTokens + 1, exchanges: before.exchanges + 1 });
    // Entra was asked for ACR's audience with the client-credentials grant, at the operator's authority.
    expect(acr.entra.requests().at(-1)).toMatchObject({ method: "POST", path: `/${acr.tenantId}/oauth2/v2.0/token`, status: 200 });
  });

  it("pulls a manifest from the distribution behind the ACR front with the minted credentials (the whole chain)", async () => {
    const minted = await mintAcrCredentials(sp(), transport(), target());
    const client = new RegistryClient({ endpoint: acr.endpoint, http, credentials: minted, tokenCache: new TokenCache() });
    const got = await client.manifest("vendor/app", "v1", "GET");
    expect(got).toMatchObject({ status: 200, digest });
    expect(crypto.createHash("sha256").update(got.body ?? Buffer.alloc(0)).digest("hex")).toBe(digest.slice("sha256:".length));
    // Without a minted password the front's token endpoint refuses: the pull above was not anonymous.
    clearChallengeCache();
    const stranger = new RegistryClient({ endpoint: acr.endpoint, http, credentials: { username: ACR_REFRESH_USER, password: "not-a-refresh-token" }, tokenCache: new TokenCache() });
    expect(await stranger.manifest("vendor/app", "v1", "GET")).toMatchObject({ status: 401, authError: "token_refused" });
  });

  it("a refresh token past its exp no longer pulls; a forced re-mint reaches Entra and the exchange again", async () => {
    acr.setRefreshTokenLifetime(2);
    const first = await mintAcrCredentials(sp(), transport(), target());
    expect(first.expiresAt - Date.now()).toBeLessThanOrEqual(2_000);
    await new Promise((r) => setTimeout(r, 2_200));
    expect(acr.isValid(first.username, first.password)).toBe(false);
    const stale = new RegistryClient({ endpoint: acr.endpoint, http, credentials: first, tokenCache: new TokenCache() });
    expect(await stale.manifest("vendor/app", "v1", "GET")).toMatchObject({ status: 401, authError: "token_refused" });

    acr.setRefreshTokenLifetime(600);
    const before = acr.counters();
    const second = await mintAcrCredentials(sp(), transport(), target());
    // No token cache inside the SDK stops a re-mint: a new Entra token and a new exchange.
    expect(acr.counters()).toMatchObject({ entraTokens: before.entraTokens + 1, exchanges: before.exchanges + 1 });
    expect(second.password).not.toBe(first.password);
    clearChallengeCache();
    const fresh = new RegistryClient({ endpoint: acr.endpoint, http, credentials: second, tokenCache: new TokenCache() });
    expect((await fresh.manifest("vendor/app", "v1", "HEAD")).status).toBe(200);
  });

  it("accepts the tenant as a verified domain", async () => {
    const minted = await mintAcrCredentials({ ...sp(), tenantId: acr.domain.toUpperCase() }, transport(), target());
    expect(acr.isValid(minted.username, minted.password)).toBe(true);
    expect(acr.entra.requests().at(-1)?.path).toBe(`/${acr.domain}/oauth2/v2.0/token`);
  });

  it("a wrong secret is refused by Entra (at the stand-in) and reported with its AADSTS code, without the secret", async () => {
    const wrong = `${acr.clientSecret.slice(0, -3)}xyz`;
    const before = acr.counters();
    const e = await mintError({ ...sp(), clientSecret: wrong }, transport(), target());
    expect(e.kind).toBe("rejected");
    expect(e.message).toMatch(/^Microsoft Entra rejected the client secret: AADSTS7000215 \(Invalid client secret provided\./);
    expect(e.message).not.toContain(wrong);
    expect(e.message).not.toContain(acr.clientSecret);
    expect(e.message).not.toMatch(/Trace ID|Correlation ID/);
    expect(acr.entra.requests().at(-1)).toMatchObject({ status: 401, errorCode: 7000215 });
    expect(acr.counters()).toMatchObject({ entraTokens: before.entraTokens, exchanges: before.exchanges });
  });

  it("an unknown application or tenant is reported in words with Entra's code", async () => {
    const app = await mintError({ ...sp(), clientId: crypto.randomUUID() }, transport(), target());
    expect(app).toMatchObject({ kind: "rejected" });
    expect(app.message).toMatch(/^Microsoft Entra does not know the application \(client ID\) in this tenant: AADSTS700016 \(Application with identifier/);
    const tenant = await mintError({ ...sp(), tenantId: crypto.randomUUID() }, transport(), target());
    expect(tenant).toMatchObject({ kind: "rejected" });
    expect(tenant.message).toMatch(/^Microsoft Entra does not know the tenant: AADSTS90002 \(Tenant '[0-9a-f-]+' not found\./);
  });

  it("the exchange refuses an Entra token of a foreign tenant, in ACR's words", async () => {
    const before = acr.counters();
    const e = await mintError({ tenantId: FOREIGN_TENANT, clientId: FOREIGN_APP.clientId, clientSecret: FOREIGN_APP.secret, ambient: false }, transport(), target());
    expect(e.kind).toBe("rejected");
    expect(e.message).toBe(
      `Azure Container Registry ${acr.service} refused the Microsoft Entra token: UNAUTHORIZED (tenant ${FOREIGN_TENANT} has no access to this registry, visit https://aka.ms/acr/authorization for more information.)`,
    );
    // Entra issued the token; the registry refused it.
    expect(acr.counters()).toMatchObject({ entraTokens: before.entraTokens + 1, exchanges: before.exchanges, exchangesRefused: before.exchangesRefused + 1 });
  });

  it("the exchange refuses an expired Entra token (also when Gantry gets one)", async () => {
    acr.entra.setTokenLifetime(-60);
    const e = await mintError(sp(), transport(), target());
    expect(e.message).toMatch(/refused the Microsoft Entra token: UNAUTHORIZED \(the access token has expired/);
    const expired = await acr.entra.signAccessToken({ tid: acr.tenantId, appid: acr.clientId, aud: "https://containerregistry.azure.net", lifetimeSeconds: -60 });
    const res = await exchangeDirect(expired);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe("UNAUTHORIZED");
  });

  it("the stand-in verifies signatures: an Entra-shaped token signed with another key, or a forged refresh token, is refused", async () => {
    const good = await acr.entra.signAccessToken({ tid: acr.tenantId, appid: acr.clientId, aud: "https://containerregistry.azure.net", lifetimeSeconds: 600 });
    expect((await exchangeDirect(good)).status).toBe(200);
    const { privateKey } = await generateKeyPair("RS256");
    const header = JSON.parse(Buffer.from(good.split(".")[0] ?? "", "base64url").toString("utf8")) as { kid: string };
    const forged = await new SignJWT(decodeJwt(good)).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: header.kid }).sign(privateKey);
    expect((await exchangeDirect(forged)).status).toBe(401);

    const minted = await mintAcrCredentials(sp(), transport(), target());
    const { privateKey: other } = await generateKeyPair("ES256");
    const fakeRefresh = await new SignJWT(decodeJwt(minted.password)).setProtectedHeader({ alg: "ES256", typ: "JWT" }).sign(other);
    expect(acr.isValid(ACR_REFRESH_USER, fakeRefresh)).toBe(false);
    const basic = (p: string) => `Basic ${Buffer.from(`${ACR_REFRESH_USER}:${p}`).toString("base64")}`;
    const tokenUrl = `${acr.endpoint}/oauth2/token?service=${acr.service}&scope=repository:vendor/app:pull`;
    expect((await fetch(tokenUrl, { headers: { authorization: basic(fakeRefresh) } })).status).toBe(401);
    expect((await fetch(tokenUrl, { headers: { authorization: basic(minted.password) } })).status).toBe(200);
  });

  it("every request to Entra goes through the transport's SSRF guard: refused in words without the allowlist, by name and by IP literal", async () => {
    const before = acr.entra.requests().length;
    const literal = await mintError(sp(), transport({ allowed: [] }), target());
    expect(literal.kind).toBe("unreachable");
    expect(literal.message).toMatch(/^Refused to connect to Microsoft Entra at 127\.0\.0\.1:\d+: blocked by the SSRF guard \(not a public address\)/);
    const byName = acr.authorityHost.replace("127.0.0.1", "localhost");
    const named = await mintError(sp(), transport({ allowed: [], authority: byName }), target({ authorityHost: byName }));
    expect(named.message).toMatch(/^Refused to connect to Microsoft Entra at localhost:\d+: blocked by the SSRF guard/);
    // A private authority that is not the operator's endpoint gets no private allowlist either.
    const notOperator = await mintError(sp(), cloudTransport({ operatorEndpoints: [], allowedPrivateHosts: ["127.0.0.1/32"], extraCa: acr.ca }), target());
    expect(notOperator.message).toMatch(/blocked by the SSRF guard/);
    expect(acr.entra.requests().length).toBe(before);
    // The same host through the allowlist works (the mint test), and by name too.
    const ok = await mintAcrCredentials(sp(), transport({ allowed: ["localhost"], authority: byName }), target({ authorityHost: byName }));
    expect(acr.isValid(ok.username, ok.password)).toBe(true);
  });

  it("an endpoint, authority or tenant Gantry may not use is a config error before any request", async () => {
    const before = { entra: acr.entra.requests().length, counters: acr.counters() };
    const cases: [Parameters<typeof mintAcrCredentials>, RegExp][] = [
      [[sp(), transport(), target({ endpoint: "https://registry.example.com" })], /registry\.example\.com is not an Azure Container Registry login server/],
      [[sp(), transport(), target({ endpoint: "https://myreg.azurecr.io.evil.example" })], /not an Azure Container Registry login server/],
      [[sp(), transport(), target({ endpoint: "http://myreg.azurecr.io" })], /must use https:\/\//],
      [[sp(), transport(), target({ endpoint: "https://myreg.azurecr.io/oauth2/exchange?x=1" })], /without a path, query or user/],
      [[sp(), transport(), target({ authorityHost: acr.authorityHost.replace("https:", "http:") })], /GANTRY_AZURE_AUTHORITY_HOST must use https/],
      [[sp(), transport(), target({ authorityHost: `${acr.authorityHost}/evil` })], /GANTRY_AZURE_AUTHORITY_HOST must be an origin/],
      [[{ ...sp(), tenantId: `${acr.tenantId}/oauth2/v2.0/token?` }, transport(), target()], /directory \(tenant\) ID or a verified domain/],
      [[{ ...sp(), tenantId: "evil.example@127.0.0.1" }, transport(), target()], /directory \(tenant\) ID or a verified domain/],
      [[{ ...sp(), tenantId: "contoso.com#x" }, transport(), target()], /directory \(tenant\) ID or a verified domain/],
      [[{ ...sp(), clientId: "app" }, transport(), target()], /client ID must be a GUID/],
      [[{ ...sp(), clientSecret: "" }, transport(), target()], /client secret is missing/],
    ];
    for (const [args, message] of cases) {
      const e = await mintError(...args);
      expect(e.kind, String(args[2].endpoint)).toBe("config");
      expect(e.message).toMatch(message);
    }
    expect(acr.entra.requests().length).toBe(before.entra);
    expect(acr.counters()).toEqual(before.counters);
  });

  it("an Entra that never answers is unreachable after the transport's timeout", async () => {
    acr.hang("entra");
    const started = Date.now();
    const e = await mintError(sp(), transport({ timeoutMs: 1_500 }), target());
    const took = Date.now() - started;
    expect(e.kind).toBe("unreachable");
    expect(e.message).toMatch(/^Microsoft Entra at 127\.0\.0\.1:\d+ did not answer within 1\.5 s\.$/);
    expect(took).toBeGreaterThanOrEqual(1_400);
    expect(took).toBeLessThan(3_000);
  });

  it("an exchange that never answers is unreachable within the same budget", async () => {
    acr.hang("exchange");
    const started = Date.now();
    const e = await mintError(sp(), transport({ timeoutMs: 1_500 }), target());
    const took = Date.now() - started;
    expect(e.kind).toBe("unreachable");
    expect(e.message).toMatch(new RegExp(`^Azure Container Registry ${acr.service} could not be reached for the token exchange: no answer within [\\d.]+ s\\.$`));
    expect(took).toBeLessThan(3_000);
  });

  it("ambient mode mints with the environment credential's AZURE_* variables, through the same guarded transport", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AZURE_TENANT_ID: acr.tenantId, AZURE_CLIENT_ID: acr.clientId, AZURE_CLIENT_SECRET: acr.clientSecret });
    try {
      const config = acrConfigSchema.parse({ ambient: true });
      const minted = await mintAcrCredentials(config, transport(), target());
      expect(acr.isValid(minted.username, minted.password)).toBe(true);
      // The tenant came from the Entra token's tid.
      expect(decodeJwt(minted.password).tenant).toBe(acr.tenantId);
      const e = await mintError(config, transport({ allowed: [] }), target());
      expect(e.message).toMatch(/blocked by the SSRF guard/);
    } finally {
      for (const k of ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});

describe("a registry that answers the exchange unlike ACR", () => {
  let server: nodeHttp.Server;
  let endpoint: string;
  let answer: (res: nodeHttp.ServerResponse, accessToken: string) => void = () => undefined;
  beforeAll(async () => {
    server = nodeHttp.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
      answer(res, new URLSearchParams(Buffer.concat(chunks).toString("utf8")).get("access_token") ?? "");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("is a protocol error without a refresh token, or with a body over the token limit, and never echoes the Entra token", async () => {
    answer = (res) => res.end("<html>not json</html>");
    expect(await mintError(sp(), transport(), target({ endpoint }))).toMatchObject({ kind: "protocol", message: expect.stringMatching(/without a refresh token/) });
    answer = (res) => res.end(JSON.stringify({ refresh_token: "x".repeat(70 * 1024) }));
    expect(await mintError(sp(), transport(), target({ endpoint }))).toMatchObject({ kind: "protocol", message: expect.stringMatching(/over 64 KiB; Gantry refused to read it/) });
    let sent = "";
    answer = (res, token) => {
      sent = token;
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: `bad token ${token}\n${token.split(".").slice(0, 2).join(".")}.sig` }] }));
    };
    const e = await mintError(sp(), transport(), target({ endpoint }));
    expect(sent.length).toBeGreaterThan(100);
    expect(e).toMatchObject({ kind: "rejected", message: `Azure Container Registry ${new URL(endpoint).host} refused the Microsoft Entra token: UNAUTHORIZED (bad token [token] [token])` });
    answer = (res) => res.writeHead(404).end();
    expect(await mintError(sp(), transport(), target({ endpoint }))).toMatchObject({ kind: "protocol", message: expect.stringMatching(/has no \/oauth2\/exchange/) });
  });

  it("an opaque refresh token expires after ACR's 3 hours", async () => {
    answer = (res) => res.end(JSON.stringify({ refresh_token: "opaque-refresh-token" }));
    const minted = await mintAcrCredentials(sp(), transport(), target({ endpoint }));
    expect(minted.password).toBe("opaque-refresh-token");
    expect(Math.abs(minted.expiresAt - (Date.now() + 3 * 60 * 60 * 1000))).toBeLessThan(5_000);
  });
});

describe("ACR config", () => {
  it("normalizes and describes the identity without the secret", () => {
    const c = acrConfigSchema.parse({ tenantId: " Contoso.OnMicrosoft.com ", clientId: "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE" });
    expect(c).toEqual({ tenantId: "contoso.onmicrosoft.com", clientId: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", ambient: false });
    expect(describeAcrIdentity(c)).toBe("Service principal aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee in tenant contoso.onmicrosoft.com");
    expect(acrConfigSchema.safeParse({ clientId: c.clientId }).success).toBe(false);
  });
});

function exchangeDirect(accessToken: string): Promise<Response> {
  const body = new URLSearchParams({ grant_type: "access_token", service: acr.service, tenant: acr.tenantId, access_token: accessToken });
  return fetch(`${acr.endpoint}/oauth2/exchange`, { method: "POST", body });
}
