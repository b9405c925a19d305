import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { importPKCS8, SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startGarStandIn, type GarStandIn, JWT_BEARER_GRANT } from "@/lib/testing/cloud/gar-standin";
import { describeGarIdentity, GAR_USERNAME, GCP_CLOUD_PLATFORM_SCOPE, mintGarCredentials } from "./gar";
import { cloudTransport } from "./transport";
import { CloudCredentialError, type CloudTransport } from "./types";

let standIn: GarStandIn;
/** The stand-in's host is the operator's GANTRY_GCP_TOKEN_URI and allowed as a private host. */
let allowed: CloudTransport;
/** Public addresses only: the loopback stand-in must be refused by the SSRF guard. */
let publicOnly: CloudTransport;

beforeAll(async () => {
  standIn = await startGarStandIn();
  allowed = cloudTransport({ operatorEndpoints: [standIn.tokenUri], allowedPrivateHosts: ["127.0.0.1/32"], timeoutMs: 5_000 });
  publicOnly = cloudTransport({ operatorEndpoints: [standIn.tokenUri], allowedPrivateHosts: [], timeoutMs: 5_000 });
});

afterAll(async () => {
  await standIn.stop();
});

afterEach(() => {
  standIn.setHang(false);
  standIn.setAnswer(undefined);
  standIn.setLifetime(3600);
});

async function failure(p: Promise<unknown>): Promise<CloudCredentialError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CloudCredentialError);
  return e as CloudCredentialError;
}

describe("mintGarCredentials with a service-account key", () => {
  it("mints an access token the registry takes as oauth2accesstoken's password, with Google's lifetime", async () => {
    standIn.setLifetime(1800);
    const key = standIn.createKey();
    const before = standIn.counters();
    const started = Date.now();
    const minted = await mintGarCredentials({ serviceAccountKey: key.json }, allowed, { tokenUri: standIn.tokenUri });
    expect(minted.username).toBe("oauth2accesstoken");
    expect(minted.username).toBe(GAR_USERNAME);
    expect(minted.password).toMatch(/^ya29\./);
    expect(standIn.isValid(minted.username, minted.password)).toBe(true);
    expect(standIn.isValid("_json_key", minted.password)).toBe(false);
    expect(minted.expiresAt).toBeGreaterThanOrEqual(started + 1800_000);
    expect(minted.expiresAt).toBeLessThanOrEqual(Date.now() + 1800_000);
    expect(standIn.counters().mints - before.mints).toBe(1);
    expect(describeGarIdentity({ serviceAccountKey: key.json })).toBe(`Google service account ${key.email} (project gantry-standin)`);
  });

  it("really mints on every call (no token cached by the library between calls)", async () => {
    const key = standIn.createKey();
    const before = standIn.counters().mints;
    const a = await mintGarCredentials({ serviceAccountKey: key.json }, allowed, { tokenUri: standIn.tokenUri });
    const b = await mintGarCredentials({ serviceAccountKey: key.json }, allowed, { tokenUri: standIn.tokenUri });
    expect(a.password).not.toBe(b.password);
    expect(standIn.counters().mints - before).toBe(2);
  });

  it("mints a token that expires: a short lifetime from the stand-in really ends", async () => {
    standIn.setLifetime(1);
    const key = standIn.createKey();
    const minted = await mintGarCredentials({ serviceAccountKey: key.json }, allowed, { tokenUri: standIn.tokenUri });
    expect(minted.expiresAt - Date.now()).toBeLessThanOrEqual(1000);
    expect(standIn.isValid(GAR_USERNAME, minted.password)).toBe(true);
    await new Promise((r) => setTimeout(r, 1100));
    expect(standIn.isValid(GAR_USERNAME, minted.password)).toBe(false);
  });

  it("names Google's error when the key is not the account's (wrong secret)", async () => {
    const registered = standIn.createKey();
    const foreign = standIn.createKey({ email: registered.email, register: false });
    const e = await failure(mintGarCredentials({ serviceAccountKey: foreign.json }, allowed, { tokenUri: standIn.tokenUri }));
    expect(e.kind).toBe("rejected");
    expect(e.message).toMatch(/^Google rejected the service-account key: invalid_grant \(Invalid JWT Signature\.\)/);
    expect(e.message).not.toContain("PRIVATE KEY");
    expect(standIn.refusals().at(-1)).toBe("invalid_grant: Invalid JWT Signature.");
  });

  it("names Google's error for an account Google does not know", async () => {
    const orphan = standIn.createKey({ register: false });
    const e = await failure(mintGarCredentials({ serviceAccountKey: orphan.json }, allowed, { tokenUri: standIn.tokenUri }));
    expect(e.kind).toBe("rejected");
    expect(e.message).toBe(
      "Google rejected the service-account key: invalid_grant (Invalid grant: account not found): the service account does not exist or is disabled.",
    );
  });

  it("names Google's error for a disabled key and for a deleted account", async () => {
    const key = standIn.createKey();
    await mintGarCredentials({ serviceAccountKey: key.json }, allowed, { tokenUri: standIn.tokenUri });
    standIn.disableKey(key.keyId);
    const disabled = await failure(mintGarCredentials({ serviceAccountKey: key.json }, allowed, { tokenUri: standIn.tokenUri }));
    expect(disabled.message).toMatch(/invalid_grant \(Invalid JWT Signature\.\): the key is not a current key of this service account \(deleted, disabled/);
    const other = standIn.createKey();
    standIn.deleteAccount(other.email);
    const deleted = await failure(mintGarCredentials({ serviceAccountKey: other.json }, allowed, { tokenUri: standIn.tokenUri }));
    expect(deleted.message).toMatch(/account not found/);
  });

  it("refuses a key whose token_uri is not the allowed endpoint, before any request", async () => {
    const key = standIn.createKey({ tokenUri: `${standIn.url}/elsewhere` });
    const before = standIn.counters().requests;
    const e = await failure(mintGarCredentials({ serviceAccountKey: key.json }, allowed, { tokenUri: standIn.tokenUri }));
    expect(e.kind).toBe("config");
    expect(e.message).toContain(`token_uri "${standIn.url}/elsewhere"`);
    expect(e.message).toContain(standIn.tokenUri);
    // A key naming Google's real endpoint is refused the same way when the operator's endpoint is another one.
    const google = standIn.createKey({ tokenUri: "https://oauth2.googleapis.com/token" });
    const e2 = await failure(mintGarCredentials({ serviceAccountKey: google.json }, allowed, { tokenUri: standIn.tokenUri }));
    expect(e2.kind).toBe("config");
    expect(standIn.counters().requests).toBe(before);
  });

  it("refuses malformed keys in words, quoting no part of them", async () => {
    const key = standIn.createKey();
    const parsed = JSON.parse(key.json) as Record<string, unknown>;
    const cases: [string, RegExp][] = [
      ["{not json", /is not JSON/],
      ["[1, 2]", /not a JSON object/],
      [JSON.stringify({ ...parsed, type: "authorized_user" }), /of type "authorized_user"; Gantry needs a service account key/],
      [JSON.stringify({ ...parsed, private_key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }), /"private_key" is not a PEM RSA private key/],
      [JSON.stringify({ ...parsed, private_key_id: undefined }), /no "private_key_id"/],
      [JSON.stringify({ ...parsed, client_email: "nobody" }), /"client_email" is not a service account e-mail/],
      [JSON.stringify({ ...parsed, pad: "x".repeat(17 * 1024) }), /larger than 16 KiB/],
    ];
    const before = standIn.counters().requests;
    for (const [json, words] of cases) {
      const e = await failure(mintGarCredentials({ serviceAccountKey: json }, allowed, { tokenUri: standIn.tokenUri }));
      expect(e.kind).toBe("config");
      expect(e.message).toMatch(words);
      expect(e.message).not.toContain("AAAA");
      expect(e.message).not.toContain(key.privateKeyPem.slice(40, 80));
    }
    expect(standIn.counters().requests).toBe(before);
  });
});

describe("the library's HTTP goes through the transport's guarded agent", () => {
  it("is refused by the SSRF guard when loopback is not allowed (by name: the agent's lookup)", async () => {
    const viaName = standIn.tokenUri.replace("127.0.0.1", "localhost");
    const key = standIn.createKey({ tokenUri: viaName });
    const before = standIn.counters().requests;
    const e = await failure(mintGarCredentials({ serviceAccountKey: key.json }, publicOnly, { tokenUri: viaName }));
    expect(e.kind).toBe("unreachable");
    expect(e.message).toMatch(/blocked by the SSRF guard \(not a public address\)/);
    expect(standIn.counters().requests).toBe(before);
    // The same key through a transport that allows the host works: only the agent differs.
    const localhostAllowed = cloudTransport({ operatorEndpoints: [viaName], allowedPrivateHosts: ["localhost"], timeoutMs: 5_000 });
    const minted = await mintGarCredentials({ serviceAccountKey: key.json }, localhostAllowed, { tokenUri: viaName });
    expect(standIn.isValid(minted.username, minted.password)).toBe(true);
  });

  it("is refused by the SSRF guard for an IP-literal endpoint too", async () => {
    const key = standIn.createKey();
    const before = standIn.counters().requests;
    const e = await failure(mintGarCredentials({ serviceAccountKey: key.json }, publicOnly, { tokenUri: standIn.tokenUri }));
    expect(e.message).toBe(
      `Refused to connect to Google's token endpoint ${new URL(standIn.url).host}: blocked by the SSRF guard (not a public address). An operator can allow it with GANTRY_ALLOWED_PRIVATE_HOSTS.`,
    );
    expect(standIn.counters().requests).toBe(before);
  });

  it("ends a token endpoint that never answers within the transport's time bound", async () => {
    standIn.setHang(true);
    const key = standIn.createKey();
    const quick = cloudTransport({ operatorEndpoints: [standIn.tokenUri], allowedPrivateHosts: ["127.0.0.1/32"], timeoutMs: 1_500 });
    const started = Date.now();
    const e = await failure(mintGarCredentials({ serviceAccountKey: key.json }, quick, { tokenUri: standIn.tokenUri }));
    const elapsed = Date.now() - started;
    expect(e.kind).toBe("unreachable");
    expect(e.message).toBe(`Google's token endpoint ${new URL(standIn.url).host} did not answer within 1.5 s.`);
    expect(elapsed).toBeGreaterThanOrEqual(1_400);
    expect(elapsed).toBeLessThan(3_000);
  });
});

describe("answers that are not a token", () => {
  it("retries an outage twice, then says the endpoint is not answering", async () => {
    const key = standIn.createKey();
    standIn.setAnswer({ status: 503, contentType: "application/json", body: JSON.stringify({ error: "internal_failure", error_description: "Backend Error" }) });
    const before = standIn.counters().requests;
    const e = await failure(mintGarCredentials({ serviceAccountKey: key.json }, allowed, { tokenUri: standIn.tokenUri }));
    expect(e.kind).toBe("unreachable");
    expect(e.message).toBe(`Google's token endpoint ${new URL(standIn.url).host} is not answering (HTTP 503: internal_failure (Backend Error)); Gantry will try again.`);
    expect(standIn.counters().requests - before).toBe(3);
    // The retries' back-off (0.1 s, then 0.5 s) counts against the same bound as the requests.
    const quick = cloudTransport({ operatorEndpoints: [standIn.tokenUri], allowedPrivateHosts: ["127.0.0.1/32"], timeoutMs: 400 });
    const started = Date.now();
    const cut = await failure(mintGarCredentials({ serviceAccountKey: key.json }, quick, { tokenUri: standIn.tokenUri }));
    expect(cut.message).toBe(`Google's token endpoint ${new URL(standIn.url).host} did not answer within 0.4 s.`);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("reports a page that is not Google's API, an oversized answer and a token answer without a token as protocol errors", async () => {
    const key = standIn.createKey();
    const mint = () => failure(mintGarCredentials({ serviceAccountKey: key.json }, allowed, { tokenUri: standIn.tokenUri }));
    standIn.setAnswer({ status: 404, contentType: "text/html", body: "<h1>Not Found</h1>" });
    expect(await mint()).toMatchObject({ kind: "protocol", message: expect.stringMatching(/answered HTTP 404 without an OAuth error/) });
    standIn.setAnswer({ status: 200, contentType: "application/json", body: JSON.stringify({ pad: "x".repeat(200 * 1024) }) });
    expect(await mint()).toMatchObject({ kind: "protocol", message: expect.stringMatching(/answered more than 64 KiB/) });
    standIn.setAnswer({ status: 200, contentType: "application/json", body: JSON.stringify({ token_type: "Bearer", expires_in: 3600 }) });
    expect(await mint()).toMatchObject({ kind: "protocol", message: expect.stringMatching(/without a usable access_token/) });
    standIn.setAnswer({ status: 200, contentType: "application/json", body: JSON.stringify({ access_token: "ya29.x", token_type: "Bearer" }) });
    expect(await mint()).toMatchObject({ kind: "protocol", message: expect.stringMatching(/without a token lifetime/) });
  });
});

describe("the stand-in verifies assertions as Google does", () => {
  async function post(assertion: string): Promise<{ status: number; body: { error?: string; error_description?: string; access_token?: string } }> {
    const res = await fetch(standIn.tokenUri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }),
    });
    return { status: res.status, body: (await res.json()) as { error?: string } };
  }

  async function assertion(pem: string, claims: Record<string, unknown>, kid?: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope: GCP_CLOUD_PLATFORM_SCOPE, iat: now, exp: now + 3600, ...claims })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", ...(kid ? { kid } : {}) })
      .sign(await importPKCS8(pem, "RS256"));
  }

  it("refuses an RS256 assertion signed by another key, with or without the account's kid", async () => {
    const key = standIn.createKey();
    const other = standIn.createKey({ register: false });
    const claims = { iss: key.email, aud: standIn.tokenUri };
    const good = await post(await assertion(key.privateKeyPem, claims, key.keyId));
    expect(good.status).toBe(200);
    expect(standIn.isValid(GAR_USERNAME, good.body.access_token ?? "")).toBe(true);
    for (const kid of [key.keyId, undefined]) {
      const bad = await post(await assertion(other.privateKeyPem, claims, kid));
      expect(bad).toEqual({ status: 400, body: { error: "invalid_grant", error_description: "Invalid JWT Signature." } });
    }
  });

  it("refuses a wrong audience, a missing scope and a long-lived or expired assertion", async () => {
    const key = standIn.createKey();
    const now = Math.floor(Date.now() / 1000);
    const wrongAud = await post(await assertion(key.privateKeyPem, { iss: key.email, aud: "https://oauth2.googleapis.com/token" }));
    expect(wrongAud.body.error_description).toBe("Invalid JWT: Failed audience check.");
    const noScope = await post(await assertion(key.privateKeyPem, { iss: key.email, aud: standIn.tokenUri, scope: "" }));
    expect(noScope.body.error).toBe("invalid_scope");
    const longLived = await post(await assertion(key.privateKeyPem, { iss: key.email, aud: standIn.tokenUri, exp: now + 7200 }));
    expect(longLived.body.error_description).toMatch(/short-lived token/);
    const expired = await post(await assertion(key.privateKeyPem, { iss: key.email, aud: standIn.tokenUri, iat: now - 4000, exp: now - 400 }));
    expect(expired.body.error_description).toMatch(/short-lived token/);
    expect(standIn.isValid(GAR_USERNAME, "ya29.made-up")).toBe(false);
  });
});

describe("ambient credentials (application default credentials)", () => {
  let dir: string;
  let saved: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-gar-adc-"));
    saved = { ...process.env };
  });

  function restore(env: NodeJS.ProcessEnv) {
    for (const name of ["GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "METADATA_SERVER_DETECTION"]) {
      if (env[name] === undefined) delete process.env[name];
      else process.env[name] = env[name];
    }
  }
  afterAll(() => {
    restore(saved);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("mints from GOOGLE_APPLICATION_CREDENTIALS through the same guarded transport", async () => {
    const key = standIn.createKey();
    const file = path.join(dir, `${crypto.randomUUID()}.json`);
    fs.writeFileSync(file, key.json, { mode: 0o600 });
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file;
    const before = standIn.counters();
    const minted = await mintGarCredentials({ ambient: true }, allowed, { tokenUri: standIn.tokenUri });
    expect(minted.username).toBe(GAR_USERNAME);
    expect(standIn.isValid(minted.username, minted.password)).toBe(true);
    expect(standIn.counters().mints - before.mints).toBe(1);
    // By name, so the refusal comes from the agent's own lookup.
    const viaName = standIn.tokenUri.replace("127.0.0.1", "localhost");
    const e = await failure(mintGarCredentials({ ambient: true }, publicOnly, { tokenUri: viaName }));
    expect(e.message).toMatch(/blocked by the SSRF guard/);
    expect(standIn.counters().requests - before.requests).toBe(1);
    expect(describeGarIdentity({ ambient: true })).toBe("Google application default credentials of the Gantry server");
  });

  it("names Google's error for an ambient key Google rejects", async () => {
    const file = path.join(dir, `${crypto.randomUUID()}.json`);
    fs.writeFileSync(file, standIn.createKey({ register: false }).json, { mode: 0o600 });
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file;
    const e = await failure(mintGarCredentials({ ambient: true }, allowed, { tokenUri: standIn.tokenUri }));
    expect(e.kind).toBe("rejected");
    expect(e.message).toMatch(/^Google rejected the ambient credentials: invalid_grant \(Invalid grant: account not found\)/);
  });

  it("says in words that there are no ambient credentials", async () => {
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.CLOUDSDK_CONFIG = dir;
    // Not on Google Cloud: no BIOS probe or ping of the metadata server from a test.
    process.env.METADATA_SERVER_DETECTION = "none";
    const before = standIn.counters().requests;
    const e = await failure(mintGarCredentials({ ambient: true }, allowed, { tokenUri: standIn.tokenUri }));
    expect(e.kind).toBe("config");
    expect(e.message).toMatch(/^No usable Google application default credentials on the Gantry server: Could not load the default credentials/);
    expect(standIn.counters().requests).toBe(before);
    restore(saved);
  });
});
