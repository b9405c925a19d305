import crypto from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { LRUCache } from "lru-cache";
import { env } from "@/lib/env";
import { hashLicenseId, isLicenseIdFormat } from "@/lib/licenses/key";
import { decide, decideProxyPull, loadLicenseForDecision, loadLicenseForProxy, type PullDecision } from "@/lib/licenses/pull-decision";
import { clientKey } from "@/lib/net/client-ip";
import { hit, peek } from "@/lib/rate-limit/fixed-window";
import { ProxyError } from "./errors";
import { parseScopes, ScopeError } from "./scopes";

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

const failureKey = (ip: string | null) => `proxy-auth:ip:${clientKey(ip) ?? "unknown"}`;

function tooManyFailures(retryAfterSeconds: number) {
  return new ProxyError(429, "TOOMANYREQUESTS", `Too many failed license attempts from your address. Try again in ${retryAfterSeconds} s.`, {
    "retry-after": String(retryAfterSeconds),
  });
}

/**
 * Addresses the guard found under the limit, remembered for 500 ms: a license
 * in steady use does not read the counter on every request. Safe because every
 * failed attempt is still counted by an atomic increment that answers 429
 * itself past the limit (failLicense); a locked-out address is read each time.
 */
const guardViews = new LRUCache<string, true>({ max: 10_000, ttl: 500 });

/** Refuses an address (IPv6: its /64) that is over its failed-license limit, before any license lookup. */
async function guardFailures(ip: string | null): Promise<void> {
  const key = failureKey(ip);
  if (guardViews.get(key)) return;
  const state = await peek(key, FAILURE_LIMIT, FAILURE_WINDOW_SECONDS);
  if (state.limited) throw tooManyFailures(state.retryAfterSeconds);
  guardViews.set(key, true);
}

/**
 * Counts a failed license attempt (one atomic upsert) and throws what the
 * client gets: the failure itself, or 429 once this attempt is past the limit.
 * Deciding on the count the increment returned means a parallel burst gets at
 * most FAILURE_LIMIT answers that say anything about its guesses.
 */
async function failLicense(ip: string | null, failure: ProxyError): Promise<never> {
  const state = await hit(failureKey(ip), FAILURE_LIMIT, FAILURE_WINDOW_SECONDS);
  guardViews.delete(failureKey(ip));
  throw state.limited ? tooManyFailures(state.retryAfterSeconds) : failure;
}

const UNKNOWN_LICENSE = "This license is not known. Check the license ID you logged in with, or ask your vendor for your license.";

const deny = (d: Extract<PullDecision, { allow: false }>, status = 401) =>
  new ProxyError(d.reason === "wrong_app" ? 403 : status, d.reason === "wrong_app" ? "DENIED" : "UNAUTHORIZED", d.message);

/**
 * GET /v2/token: checks the license, then for every repository scope under
 * proxy/<app>/… runs the pull decision for that app and grants pull on it.
 * Malformed scopes are refused (400); other resources are granted nothing.
 * The license must be known and active whatever the scopes say, and an
 * unknown one counts as a failed attempt.
 */
export async function issueToken(authorization: string | undefined, scopes: string[], ip: string | null, now = new Date(), on: TokenAudience = gantryAudience()) {
  await guardFailures(ip);
  const licenseId = licenseFromBasic(authorization);
  if (!licenseId) throw new ProxyError(401, "UNAUTHORIZED", "Log in with your license: docker login <proxy-domain> -u LICENSE_ID -p <your license ID>.");
  if (!isLicenseIdFormat(licenseId)) return failLicense(ip, new ProxyError(401, "UNAUTHORIZED", UNKNOWN_LICENSE));
  const keyHash = hashLicenseId(licenseId);
  // One lookup serves every scope: the license, its app, state and pin.
  const license = await loadLicenseForDecision(keyHash);
  if (!license) return failLicense(ip, new ProxyError(401, "UNAUTHORIZED", UNKNOWN_LICENSE));
  let requested;
  try {
    requested = parseScopes(scopes);
  } catch (e) {
    if (e instanceof ScopeError) throw new ProxyError(400, "UNSUPPORTED", e.message);
    throw e;
  }
  const own = decide(license, license.appSlug, now);
  if (!own.allow) throw new ProxyError(401, "UNAUTHORIZED", own.message);
  if (on.teamId !== null && license.teamId !== on.teamId) {
    // Another team's custom domain: its apps are not this license's to see, as if they did not exist.
    const wanted = requested.find((s) => s.name.startsWith("proxy/"));
    if (wanted) throw unknownOnDomain(wanted.name.split("/")[1] ?? "");
    throw new ProxyError(401, "UNAUTHORIZED", UNKNOWN_LICENSE);
  }
  const access: { type: "repository"; name: string; actions: string[] }[] = [];
  for (const scope of requested) {
    const [prefix, appSlug] = scope.name.split("/");
    if (prefix !== "proxy" || !appSlug) continue; // not a proxied repository: nothing to grant
    const decision = decide(license, appSlug, now);
    if (!decision.allow) throw deny(decision);
    if (scope.actions.includes("pull") || scope.actions.includes("*")) access.push({ type: "repository", name: scope.name, actions: ["pull"] });
  }
  const issuedAt = Math.floor(now.getTime() / 1000);
  const token = await new SignJWT({ access, lic: keyHash })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer("gantry-proxy")
    .setAudience(on.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + TOKEN_TTL_SECONDS)
    .sign(key());
  return { token, access_token: token, expires_in: TOKEN_TTL_SECONDS, issued_at: new Date(issuedAt * 1000).toISOString() };
}

export type Caller = { keyHash: string; grants: string[] | "basic" };

/**
 * Who a token is for: Gantry's own proxy domain (any team's license), or one
 * team's custom domain (lib/domains): the token's audience is the name the
 * client used, and a token issued on one name is refused on any other.
 */
export interface TokenAudience {
  audience: string;
  /** The custom domain's team; null on Gantry's own URL. */
  teamId: string | null;
}

export const gantryAudience = (): TokenAudience => ({ audience: env().proxyDomain, teamId: null });

const NAME_UNKNOWN = (slug: string) => `No app "${slug.slice(0, 80)}" on this registry, or your login cannot see it.`;

/** What another team's custom domain answers for an app: exactly what Gantry's registry answers for one that does not exist. */
export const unknownOnDomain = (slug: string) => new ProxyError(404, "NAME_UNKNOWN", NAME_UNKNOWN(slug));

/**
 * Tokens whose signature was checked, until they expire: a client sends the
 * same token with every request of a pull, and the HMAC and claim checks need
 * not run again. Only valid tokens are kept (bounded: 10,000 entries); what a
 * token grants is still decided on every request (authorizePull).
 */
const verifiedTokens = new LRUCache<string, { caller: Caller; expiresAt: number; audience: string }>({ max: 10_000 });

/**
 * Who is calling a /v2/ API path: a Bearer token from /v2/token, or Basic with
 * the license. Null when anonymous or the token is invalid. A Basic license is
 * a license attempt like /v2/token's: an address over the failure limit is
 * refused, and a malformed license counts as a failure.
 */
export async function authenticate(authorization: string | undefined, ip: string | null, audience = env().proxyDomain): Promise<Caller | null> {
  if (!authorization) return null;
  if (authorization.startsWith("Bearer ")) {
    const jwt = authorization.slice(7);
    const known = verifiedTokens.get(jwt);
    // Remembered for the name it was verified on: on another one it is checked (and refused) in full.
    if (known && known.audience === audience) return known.expiresAt > Date.now() ? known.caller : null;
    try {
      const { payload } = await jwtVerify(jwt, key(), { issuer: "gantry-proxy", audience, algorithms: ["HS256"] });
      const access = Array.isArray(payload.access) ? (payload.access as { name?: unknown }[]) : [];
      if (typeof payload.lic !== "string" || typeof payload.exp !== "number") return null;
      const caller = { keyHash: payload.lic, grants: access.map((a) => String(a.name ?? "")) };
      if (jwt.length <= 8192) verifiedTokens.set(jwt, { caller, expiresAt: payload.exp * 1000, audience });
      return caller;
    } catch {
      return null;
    }
  }
  const licenseId = licenseFromBasic(authorization);
  if (!licenseId) return null;
  await guardFailures(ip);
  if (!isLicenseIdFormat(licenseId)) return failLicense(ip, new ProxyError(401, "UNAUTHORIZED", UNKNOWN_LICENSE));
  return { keyHash: hashLicenseId(licenseId), grants: "basic" };
}

/** For GET /v2/ with Basic: the license must be known and active. */
export async function checkBasicLicense(caller: Caller, ip: string | null, now = new Date(), domainTeamId: string | null = null): Promise<void> {
  if (caller.grants !== "basic") return;
  const license = await loadLicenseForDecision(caller.keyHash);
  if (!license) return failLicense(ip, new ProxyError(401, "UNAUTHORIZED", UNKNOWN_LICENSE));
  if (domainTeamId !== null && license.teamId !== domainTeamId) throw new ProxyError(401, "UNAUTHORIZED", UNKNOWN_LICENSE);
  const decision = decide(license, license.appSlug, now);
  if (!decision.allow) throw deny(decision);
}

/**
 * On a team's custom domain, a license of another team sees none of its apps
 * (or its own): 404 NAME_UNKNOWN whatever the slug, before any other answer
 * could tell the apps apart. An unknown license goes on to the usual 401.
 */
export async function assertOnDomainTeam(caller: Caller, teamId: string, appSlug: string): Promise<void> {
  const license = await loadLicenseForProxy(caller.keyHash);
  if (license && license.teamId !== teamId) throw unknownOnDomain(appSlug);
}

/** Runs the pull decision for a caller on a repository; throws a registry error when denied. */
export async function authorizePull(caller: Caller, repositoryName: string, appSlug: string, ip: string | null = null) {
  if (caller.grants !== "basic" && !caller.grants.includes(repositoryName)) {
    throw new ProxyError(401, "UNAUTHORIZED", "The token does not cover this repository.");
  }
  const decision = await decideProxyPull(caller.keyHash, appSlug);
  if (!decision.allow) {
    // A Basic license nobody knows is a guess, counted like one at /v2/token.
    if (decision.reason === "unknown_license" && caller.grants === "basic") return failLicense(ip, deny(decision));
    throw deny(decision);
  }
  return decision;
}
