import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { compactVerify, decodeJwt, decodeProtectedHeader } from "jose";

/**
 * A stand-in for Google's OAuth2 token endpoint (https://oauth2.googleapis.com/token)
 * as a service-account key uses it: the JWT-bearer grant (RFC 7523). It checks
 * what Google checks — the RS256 signature against the account's registered
 * public keys (the one named by `kid` when the assertion has one, else each of
 * the account's keys, as Google does), `iss` a known service account, `aud` this
 * endpoint, a scope, and a short-lived `iat`/`exp` — and answers in Google's
 * words (`{error, error_description}`), so Gantry's error mapping meets the real
 * shapes. Minted access tokens live `lifetimeSeconds`; `isValid` tells a test
 * registry's token server whether a password is one of them and still alive.
 */

export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
export const ACCESS_TOKEN_USERNAME = "oauth2accesstoken";
/** Google's limit on an assertion's lifetime (exp - iat), and the clock skew it tolerates. */
const MAX_ASSERTION_SECONDS = 3600;
const SKEW_SECONDS = 60;
const MAX_BODY_BYTES = 64 * 1024;

export interface GarStandInKey {
  /** The service-account key file's contents, as a vendor pastes it. */
  json: string;
  email: string;
  keyId: string;
  projectId: string;
  privateKeyPem: string;
}

export interface GarStandInCounters {
  /** Every POST that reached the token endpoint (hanging ones included). */
  requests: number;
  /** Access tokens issued. */
  mints: number;
  /** Requests answered with an OAuth error. */
  refusals: number;
}

export interface GarStandIn {
  /** http://127.0.0.1:<port> */
  url: string;
  /** `${url}/token`: the token_uri of the keys it makes, and the `aud` it demands. */
  tokenUri: string;
  /**
   * A new key (RSA 2048) for `email` (a new account by default), registered
   * unless `register: false` — a key the account does not have, i.e. a wrong secret.
   */
  createKey(opts?: { email?: string; projectId?: string; register?: boolean; tokenUri?: string }): GarStandInKey;
  /** A disabled key stays registered but no longer verifies, as in IAM. */
  disableKey(keyId: string): void;
  deleteAccount(email: string): void;
  /** True while `password` is an access token this stand-in minted and it has not expired. */
  isValid(username: string, password: string): boolean;
  counters(): GarStandInCounters;
  /** Error answers given, newest last (`error: error_description`), for assertions. */
  refusals(): string[];
  setLifetime(seconds: number): void;
  /** While on, token requests are read and never answered (timeouts). */
  setHang(on: boolean): void;
  /** While set, every token request gets this answer instead (outages, answers that are not Google's). */
  setAnswer(answer: GarStandInAnswer | undefined): void;
  stop(): Promise<void>;
}

export interface GarStandInAnswer {
  status: number;
  contentType: string;
  body: string;
}

interface Account {
  keys: Map<string, { publicKey: crypto.KeyObject; enabled: boolean }>;
}

class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }
}

export async function startGarStandIn(opts: { lifetimeSeconds?: number; host?: string } = {}): Promise<GarStandIn> {
  let lifetimeSeconds = opts.lifetimeSeconds ?? 3600;
  let hang = false;
  let answer: GarStandInAnswer | undefined;
  const accounts = new Map<string, Account>();
  const tokens = new Map<string, number>();
  const counters: GarStandInCounters = { requests: 0, mints: 0, refusals: 0 };
  const refusals: string[] = [];
  // The audience is this endpoint, by either of its names (tests reach it as localhost to exercise DNS).
  let audiences: string[] = [];

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://stand-in").pathname;
    if (path !== "/token" || req.method !== "POST") {
      res.writeHead(404, { "content-type": "text/html" }).end("<h1>Not Found</h1>");
      return;
    }
    counters.requests++;
    if (hang) return;
    if (answer) {
      req.resume();
      // Written in chunks without a length: a client must count what it reads.
      res.writeHead(answer.status, { "content-type": answer.contentType });
      for (let i = 0; i < answer.body.length; i += 16 * 1024) res.write(answer.body.slice(i, i + 16 * 1024));
      res.end();
      return;
    }
    readForm(req)
      .then(async (form) => {
        if (form.get("grant_type") !== JWT_BEARER_GRANT) {
          throw new OAuthError(400, "unsupported_grant_type", `Invalid grant_type: ${form.get("grant_type") ?? ""}`);
        }
        const assertion = form.get("assertion");
        if (!assertion) throw new OAuthError(400, "invalid_request", "Missing required parameter: assertion");
        await verify(assertion, accounts, audiences);
        const token = `ya29.standin-${crypto.randomBytes(24).toString("base64url")}`;
        tokens.set(token, Date.now() + lifetimeSeconds * 1000);
        counters.mints++;
        res.writeHead(200, { "content-type": "application/json; charset=utf-8", "cache-control": "no-cache, no-store" });
        res.end(JSON.stringify({ access_token: token, expires_in: lifetimeSeconds, token_type: "Bearer" }));
      })
      .catch((e: unknown) => {
        const err = e instanceof OAuthError ? e : new OAuthError(400, "invalid_request", "Invalid request");
        counters.refusals++;
        refusals.push(err.message);
        res.writeHead(err.status, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify({ error: err.error, error_description: err.description }));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, opts.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host ?? "127.0.0.1"}:${port}`;
  const tokenUri = `${url}/token`;
  audiences = [tokenUri, `http://localhost:${port}/token`];

  return {
    url,
    tokenUri,
    createKey(k = {}) {
      const projectId = k.projectId ?? "gantry-standin";
      const email = k.email ?? `sa-${crypto.randomBytes(4).toString("hex")}@${projectId}.iam.gserviceaccount.com`;
      const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
      const keyId = crypto.randomBytes(20).toString("hex");
      const privateKeyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      if (k.register !== false) {
        const account = accounts.get(email) ?? { keys: new Map() };
        account.keys.set(keyId, { publicKey, enabled: true });
        accounts.set(email, account);
      }
      // The fields and their order are those of a key file the Google Cloud console downloads.
      const json = JSON.stringify(
        {
          type: "service_account",
          project_id: projectId,
          private_key_id: keyId,
          private_key: privateKeyPem,
          client_email: email,
          client_id: String(BigInt(`0x${crypto.randomBytes(8).toString("hex")}`)),
          auth_uri: "https://accounts.google.com/o/oauth2/auth",
          token_uri: k.tokenUri ?? tokenUri,
          auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
          client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(email)}`,
          universe_domain: "googleapis.com",
        },
        null,
        2,
      );
      return { json, email, keyId, projectId, privateKeyPem };
    },
    disableKey(keyId) {
      for (const account of accounts.values()) {
        const key = account.keys.get(keyId);
        if (key) key.enabled = false;
      }
    },
    deleteAccount(email) {
      accounts.delete(email);
    },
    isValid(username, password) {
      const expiresAt = tokens.get(password);
      if (expiresAt !== undefined && expiresAt <= Date.now()) tokens.delete(password);
      return username === ACCESS_TOKEN_USERNAME && expiresAt !== undefined && expiresAt > Date.now();
    },
    counters: () => ({ ...counters }),
    refusals: () => [...refusals],
    setLifetime(seconds) {
      lifetimeSeconds = seconds;
    },
    setHang(on) {
      hang = on;
    },
    setAnswer(a) {
      answer = a;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/x-www-form-urlencoded") {
      req.resume();
      reject(new OAuthError(400, "invalid_request", "Invalid Content-Type; expected application/x-www-form-urlencoded"));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        reject(new OAuthError(413, "invalid_request", "Request too large"));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(new URLSearchParams(Buffer.concat(chunks).toString("utf8"))));
    req.on("error", reject);
  });
}

const INVALID_SIGNATURE = () => new OAuthError(400, "invalid_grant", "Invalid JWT Signature.");
const ACCOUNT_NOT_FOUND = () => new OAuthError(400, "invalid_grant", "Invalid grant: account not found");

async function verify(assertion: string, accounts: Map<string, Account>, audiences: string[]): Promise<{ scope: string }> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch {
    throw new OAuthError(400, "invalid_grant", "Invalid JWT: Malformed assertion.");
  }
  if (header.alg !== "RS256") throw INVALID_SIGNATURE();
  const account = typeof claims.iss === "string" ? accounts.get(claims.iss) : undefined;
  if (!account) throw ACCOUNT_NOT_FOUND();
  // With a kid, only that key; without one, any of the account's keys (gtoken signs without a kid).
  const candidates = header.kid !== undefined ? [account.keys.get(header.kid)] : [...account.keys.values()];
  let verified = false;
  for (const key of candidates) {
    if (!key?.enabled) continue;
    try {
      await compactVerify(assertion, key.publicKey, { algorithms: ["RS256"] });
      verified = true;
      break;
    } catch {
      // the next key, if any
    }
  }
  if (!verified) throw INVALID_SIGNATURE();
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.some((a) => typeof a === "string" && audiences.includes(a))) throw new OAuthError(400, "invalid_grant", "Invalid JWT: Failed audience check.");
  const now = Math.floor(Date.now() / 1000);
  const { iat, exp } = claims;
  if (typeof iat !== "number" || typeof exp !== "number" || exp - iat > MAX_ASSERTION_SECONDS || exp <= iat || exp < now - SKEW_SECONDS || iat > now + SKEW_SECONDS) {
    throw new OAuthError(
      400,
      "invalid_grant",
      "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
    );
  }
  const scope = typeof claims.scope === "string" ? claims.scope.trim() : "";
  if (!scope) throw new OAuthError(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.");
  return { scope };
}
