import crypto from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { env } from "@/lib/env";
import { hashLicenseId, isLicenseIdFormat } from "@/lib/licenses/key";
import { decidePullByHash, type PullDecision } from "@/lib/licenses/pull-decision";
import { hit, peek } from "@/lib/rate-limit/fixed-window";
import { db } from "@/lib/db";
import { licenseState } from "@/lib/licenses/state";
import { ProxyError } from "./errors";

/**
 * Customer authentication at the proxy, Docker-registry style: /v2/ answers
 * 401 with a Bearer challenge; the token endpoint (/v2/token) takes the
 * license ID as the Basic password (any username, or the license ID as both)
 * and issues a short-lived token scoped to repository:proxy/<app>/…:pull.
 * Tokens carry the SHA-256 of the license ID, never the ID, and every request
 * re-runs the pull decision, so a revocation applies to tokens issued before it.
 */
export const TOKEN_TTL_SECONDS = 300;
const FAILURE_LIMIT = 20;
const FAILURE_WINDOW_SECONDS = 300;

let signingKey: Uint8Array | undefined;
function key(): Uint8Array {
  signingKey ??= new Uint8Array(crypto.createHmac("sha256", env().authSecret).update("gantry-proxy-token-v1").digest());
  return signingKey;
}

export function challengeHeader(realm: string, service: string, scope?: string, error?: string): string {
  return `Bearer realm="${realm}",service="${service}"${scope ? `,scope="${scope}"` : ""}${error ? `,error="${error}"` : ""}`;
}

/** The license ID from `Authorization: Basic` (the password; any username). */
export function licenseFromBasic(header: string | undefined): string | null {
  if (!header?.startsWith("Basic ")) return null;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const sep = decoded.indexOf(":");
  const password = sep >= 0 ? decoded.slice(sep + 1) : "";
  return password || null;
}

async function guardFailures(ip: string | null): Promise<void> {
  if (!ip) return;
  const state = await peek(`proxy-auth:ip:${ip}`, FAILURE_LIMIT, FAILURE_WINDOW_SECONDS);
  if (state.limited) {
    throw new ProxyError(429, "TOOMANYREQUESTS", `Too many failed license attempts from your address. Try again in ${state.retryAfterSeconds} s.`, {
      "retry-after": String(state.retryAfterSeconds),
    });
  }
}

async function recordFailure(ip: string | null): Promise<void> {
  if (ip) await hit(`proxy-auth:ip:${ip}`, FAILURE_WINDOW_SECONDS);
}

const deny = (d: Extract<PullDecision, { allow: false }>, status = 401) =>
  new ProxyError(d.reason === "wrong_app" ? 403 : status, d.reason === "wrong_app" ? "DENIED" : "UNAUTHORIZED", d.message);

/** Repository scopes asked for: "repository:proxy/acme/quay.io/x:pull" → name + actions. */
export function parseScopes(scopes: string[]): { name: string; actions: string[] }[] {
  return scopes
    .flatMap((s) => s.split(" "))
    .map((s) => /^repository:([^:]+(?::[0-9]+)?[^:]*):([a-z,*]+)$/.exec(s))
    .filter((m): m is RegExpExecArray => Boolean(m))
    .map((m) => ({ name: m[1] ?? "", actions: (m[2] ?? "").split(",") }));
}

/**
 * GET /v2/token: checks the license for every app named in the scopes and
 * issues a token granting pull on those repositories. Without a scope (docker
 * login) the license only has to be known and active.
 */
export async function issueToken(authorization: string | undefined, scopes: string[], ip: string | null, now = new Date()) {
  await guardFailures(ip);
  const licenseId = licenseFromBasic(authorization);
  if (!licenseId) throw new ProxyError(401, "UNAUTHORIZED", "Log in with your license: docker login <proxy-domain> -u LICENSE_ID -p <your license ID>.");
  if (!isLicenseIdFormat(licenseId)) {
    await recordFailure(ip);
    throw new ProxyError(401, "UNAUTHORIZED", "This license is not known. Check the license ID you logged in with, or ask your vendor for your license.");
  }
  const keyHash = hashLicenseId(licenseId);
  const access: { type: "repository"; name: string; actions: string[] }[] = [];
  const requested = parseScopes(scopes);
  if (requested.length === 0) {
    const l = await db.license.findUnique({ where: { keyHash }, select: { revokedAt: true, expiresAt: true } });
    const state = l ? licenseState(l, now) : null;
    if (state !== "active") {
      await recordFailure(ip);
      const message = !l ? "This license is not known. Check the license ID you logged in with." : state === "revoked" ? "This license has been revoked. Contact your vendor to restore access." : "This license has expired. Contact your vendor to renew it.";
      throw new ProxyError(401, "UNAUTHORIZED", message);
    }
  }
  for (const scope of requested) {
    const appSlug = scope.name.split("/")[1] ?? "";
    if (!scope.name.startsWith("proxy/") || !appSlug) continue;
    const decision = await decidePullByHash(keyHash, appSlug, now);
    if (!decision.allow) {
      if (decision.reason === "unknown_license") await recordFailure(ip);
      throw deny(decision);
    }
    if (scope.actions.includes("pull") || scope.actions.includes("*")) access.push({ type: "repository", name: scope.name, actions: ["pull"] });
  }
  const issuedAt = Math.floor(now.getTime() / 1000);
  const token = await new SignJWT({ access, lic: keyHash })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer("gantry-proxy")
    .setAudience(env().proxyDomain)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + TOKEN_TTL_SECONDS)
    .sign(key());
  return { token, access_token: token, expires_in: TOKEN_TTL_SECONDS, issued_at: new Date(issuedAt * 1000).toISOString() };
}

export type Caller = { keyHash: string; grants: string[] | "basic" };

/** Who is calling a /v2/ API path: a Bearer token from /v2/token, or Basic with the license. Null when anonymous or invalid. */
export async function authenticate(authorization: string | undefined): Promise<Caller | null> {
  if (!authorization) return null;
  if (authorization.startsWith("Bearer ")) {
    try {
      const { payload } = await jwtVerify(authorization.slice(7), key(), { issuer: "gantry-proxy", audience: env().proxyDomain, algorithms: ["HS256"] });
      const access = Array.isArray(payload.access) ? (payload.access as { name?: unknown }[]) : [];
      if (typeof payload.lic !== "string") return null;
      return { keyHash: payload.lic, grants: access.map((a) => String(a.name ?? "")) };
    } catch {
      return null;
    }
  }
  const licenseId = licenseFromBasic(authorization);
  if (licenseId && isLicenseIdFormat(licenseId)) return { keyHash: hashLicenseId(licenseId), grants: "basic" };
  return null;
}

/** Runs the pull decision for a caller on a repository; throws a registry error when denied. */
export async function authorizePull(caller: Caller, repositoryName: string, appSlug: string) {
  if (caller.grants !== "basic" && !caller.grants.includes(repositoryName)) {
    throw new ProxyError(401, "UNAUTHORIZED", "The token does not cover this repository.");
  }
  const decision = await decidePullByHash(caller.keyHash, appSlug);
  if (!decision.allow) throw deny(decision);
  return decision;
}
