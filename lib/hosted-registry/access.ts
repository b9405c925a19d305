import crypto from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { LRUCache } from "lru-cache";
import { apiTokenById, authenticateApiToken, TOKEN_PREFIX } from "@/lib/api-tokens/tokens";
import { checkCredentials } from "@/lib/auth/credentials";
import { db } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { hashLicenseId, isLicenseIdFormat } from "@/lib/licenses/key";
import { decide, decideProxyPull, loadLicenseForDecision, loadLicenseForProxy, type PullDecision } from "@/lib/licenses/pull-decision";
import { clientKey } from "@/lib/net/client-ip";
import { ProxyError } from "@/lib/proxy/errors";
import { parseScopes, ScopeError } from "@/lib/proxy/scopes";
import { hit, peek } from "@/lib/rate-limit/fixed-window";
import { can, isRole, type Role } from "@/lib/teams/roles";

/**
 * Who may do what on Gantry's own registry.
 *
 * Logging in (docker login <registry>, then /v2/token with Basic):
 *  - the portal email and password: a vendor; sign-in limits are the portal's;
 *  - a team API token as the password (any username, usually the token again);
 *  - a license ID as the password (any username): a customer.
 * /v2/token answers a short-lived token naming the principal and the access
 * granted (requested ∩ allowed). Every request re-checks the principal live
 * (remembered ≤ 500 ms per process), so a revoked license, token or membership
 * stops working within a second on every replica.
 *
 * Rights: owners and admins (users, admin-role tokens) pull, push and delete
 * under their team's apps; members and member-role tokens pull; a license pulls
 * its own app (license decision, release scope and pull log as at the proxy).
 * Another team's app is answered exactly like an app that does not exist.
 */
export type Principal =
  | { kind: "user"; userId: string; label: string }
  | { kind: "token"; tokenId: string; label: string }
  | { kind: "license"; keyHash: string };

export type Action = "pull" | "push" | "delete";
export const ACTIONS: readonly Action[] = ["pull", "push", "delete"];

export interface AppRef {
  id: string;
  teamId: string;
  slug: string;
  name: string;
}

export type Rights =
  | { kind: "vendor"; app: AppRef; actions: ReadonlySet<Action>; role: Role; principal: Principal }
  | { kind: "license"; app: AppRef; actions: ReadonlySet<Action>; decision: Extract<PullDecision, { allow: true }> };

export const REGISTRY_TOKEN_TTL_SECONDS = 300;
const ISSUER = "gantry-registry";
const FAILURE_LIMIT = 20;
const FAILURE_WINDOW_SECONDS = 300;
const LIVE_MS = 500;

let signingKey: Uint8Array | undefined;
function key(secret: string): Uint8Array {
  signingKey ??= new Uint8Array(crypto.createHmac("sha256", secret).update("gantry-registry-token-v1").digest());
  return signingKey;
}

function basicCredentials(header: string | undefined): { username: string; password: string } | null {
  if (!header?.startsWith("Basic ")) return null;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const sep = decoded.indexOf(":");
  if (sep < 0) return null;
  return { username: decoded.slice(0, sep), password: decoded.slice(sep + 1) };
}

const failureKey = (ip: string | null) => `registry-auth:ip:${clientKey(ip) ?? "unknown"}`;
const tooMany = (seconds: number) =>
  new ProxyError(429, "TOOMANYREQUESTS", `Too many failed logins from your address. Try again in ${seconds} s.`, { "retry-after": String(seconds) });

/** Refuses an address over its failed-login limit (tokens and licenses; email logins use the portal's limits). */
async function guard(ip: string | null): Promise<void> {
  const state = await peek(failureKey(ip), FAILURE_LIMIT, FAILURE_WINDOW_SECONDS);
  if (state.limited) throw tooMany(state.retryAfterSeconds);
}

async function fail(ip: string | null, message: string): Promise<never> {
  const state = await hit(failureKey(ip), FAILURE_LIMIT, FAILURE_WINDOW_SECONDS);
  throw state.limited ? tooMany(state.retryAfterSeconds) : new ProxyError(401, "UNAUTHORIZED", message);
}

const BAD_LOGIN = "Wrong login: use your Gantry email and password, a team API token (as username and password), or a license ID as the password.";

/** Checks Basic credentials once (at /v2/token, or on a request that sends Basic). */
export async function principalFromBasic(authorization: string | undefined, ip: string | null): Promise<Principal | null> {
  const creds = basicCredentials(authorization);
  if (!creds || !creds.password) return null;
  const { username, password } = creds;
  if (password.startsWith(TOKEN_PREFIX)) {
    await guard(ip);
    const token = await authenticateApiToken(password);
    if (!token) return fail(ip, BAD_LOGIN);
    return { kind: "token", tokenId: token.id, label: `token:${token.name}` };
  }
  if (username.includes("@")) {
    try {
      const user = await checkCredentials(username, password, ip, { recordSignIn: false });
      if (!user) throw new ProxyError(401, "UNAUTHORIZED", BAD_LOGIN);
      return { kind: "user", userId: user.id, label: `user:${user.email}` };
    } catch (e) {
      if (isAppError(e) && e.code === "RATE_LIMITED") throw tooMany(e.retryAfterSeconds ?? 60);
      throw e;
    }
  }
  await guard(ip);
  if (!isLicenseIdFormat(password)) return fail(ip, BAD_LOGIN);
  const keyHash = hashLicenseId(password);
  const license = await loadLicenseForDecision(keyHash);
  if (!license) return fail(ip, BAD_LOGIN);
  // A revoked or expired license cannot log in at all (its own app's decision).
  const own = decide(license, license.appSlug, new Date());
  if (!own.allow) throw new ProxyError(401, "UNAUTHORIZED", own.message);
  return { kind: "license", keyHash };
}

const encodePrincipal = (p: Principal) => (p.kind === "user" ? `u:${p.userId}:${p.label}` : p.kind === "token" ? `t:${p.tokenId}:${p.label}` : `l:${p.keyHash}`);

function decodePrincipal(s: string): Principal | null {
  const [kind, id, ...rest] = s.split(":");
  if (!id) return null;
  if (kind === "u") return { kind: "user", userId: id, label: rest.join(":") };
  if (kind === "t") return { kind: "token", tokenId: id, label: rest.join(":") };
  if (kind === "l") return { kind: "license", keyHash: id };
  return null;
}

export interface Grant {
  type: "repository";
  name: string;
  actions: Action[];
}

/**
 * /v2/token: the principal, and for each requested repository scope the
 * actions it may take there now. Scopes on apps it cannot see get nothing
 * (as the distribution token spec says: a subset, possibly empty).
 */
export async function issueRegistryToken(opts: { authorization: string | undefined; scopes: string[]; ip: string | null; service: string; secret: string; domainTeamId?: string | null }) {
  let requested;
  try {
    requested = parseScopes(opts.scopes);
  } catch (e) {
    if (e instanceof ScopeError) throw new ProxyError(400, "UNSUPPORTED", e.message);
    throw e;
  }
  const principal = await principalFromBasic(opts.authorization, opts.ip);
  if (!principal) throw new ProxyError(401, "UNAUTHORIZED", BAD_LOGIN);
  const access: Grant[] = [];
  for (const scope of requested) {
    const slug = scope.name.split("/")[0] ?? "";
    if (!scope.name.includes("/")) continue;
    const rights = await rightsOn(principal, slug).catch((e: unknown) => {
      if (e instanceof ProxyError && e.status !== 500) return null;
      throw e;
    });
    // On a team's custom domain only that team's apps exist (lib/domains).
    if (!rights || (opts.domainTeamId && rights.app.teamId !== opts.domainTeamId)) continue;
    const wanted = new Set(scope.actions.includes("*") ? ACTIONS : scope.actions);
    const actions = ACTIONS.filter((a) => wanted.has(a) && rights.actions.has(a));
    if (actions.length) access.push({ type: "repository", name: scope.name, actions });
  }
  const iat = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ access, prn: encodePrincipal(principal) })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(ISSUER)
    .setAudience(opts.service)
    .setIssuedAt(iat)
    .setExpirationTime(iat + REGISTRY_TOKEN_TTL_SECONDS)
    .sign(key(opts.secret));
  return { token, access_token: token, expires_in: REGISTRY_TOKEN_TTL_SECONDS, issued_at: new Date(iat * 1000).toISOString() };
}

export interface Caller {
  principal: Principal;
  /** What the token grants, by repository name; null for Basic (the principal's own rights). */
  grants: Map<string, Set<Action>> | null;
}

const verified = new LRUCache<string, { caller: Caller; expiresAt: number; service: string }>({ max: 10_000 });

/** The caller of a request: a token from /v2/token, or Basic credentials. Null when anonymous or invalid. */
export async function authenticateRequest(authorization: string | undefined, ip: string | null, service: string, secret: string): Promise<Caller | null> {
  if (!authorization) return null;
  if (authorization.startsWith("Bearer ")) {
    const jwt = authorization.slice(7);
    const known = verified.get(jwt);
    // Remembered for the name (audience) it was verified on: on another one it is checked, and refused, in full.
    if (known && known.service === service) return known.expiresAt > Date.now() ? known.caller : null;
    try {
      const { payload } = await jwtVerify(jwt, key(secret), { issuer: ISSUER, audience: service, algorithms: ["HS256"] });
      const principal = typeof payload.prn === "string" ? decodePrincipal(payload.prn) : null;
      if (!principal || typeof payload.exp !== "number") return null;
      const grants = new Map<string, Set<Action>>();
      for (const a of Array.isArray(payload.access) ? (payload.access as Partial<Grant>[]) : []) {
        if (typeof a.name === "string" && Array.isArray(a.actions)) grants.set(a.name, new Set(a.actions.filter((x): x is Action => ACTIONS.includes(x))));
      }
      const caller = { principal, grants };
      if (jwt.length <= 8192) verified.set(jwt, { caller, expiresAt: payload.exp * 1000, service });
      return caller;
    } catch {
      return null;
    }
  }
  const principal = await principalFromBasic(authorization, ip);
  return principal ? { principal, grants: null } : null;
}

const apps = new LRUCache<string, { app: AppRef | null }>({ max: 10_000, ttl: LIVE_MS });
const vendorRoles = new LRUCache<string, { teamId: string | null; role: Role | null }>({ max: 10_000, ttl: LIVE_MS });

async function appBySlug(slug: string): Promise<AppRef | null> {
  const hit = apps.get(slug);
  if (hit) return hit.app;
  const app = await db.app.findUnique({ where: { slug }, select: { id: true, teamId: true, slug: true, name: true } });
  apps.set(slug, { app });
  return app;
}

/**
 * Whether a principal belongs to another team than `teamId` as far as a
 * custom domain can tell: a license of another team's app (vendors are checked
 * by their role in the app's team). Remembered ≤ 500 ms like every decision.
 */
export async function isForeignLicense(principal: Principal, teamId: string): Promise<boolean> {
  if (principal.kind !== "license") return false;
  const license = await loadLicenseForProxy(principal.keyHash);
  return license !== null && license.teamId !== teamId;
}

/** The team of the app with this slug (null: no such app), remembered ≤ 500 ms. */
export async function appTeamOf(slug: string): Promise<string | null> {
  return (await appBySlug(slug))?.teamId ?? null;
}

/** The role a vendor principal has in a team (null: none), remembered ≤ 500 ms. */
async function vendorRole(p: Extract<Principal, { kind: "user" | "token" }>, teamId: string): Promise<Role | null> {
  const cacheKey = p.kind === "user" ? `u:${p.userId}:${teamId}` : `t:${p.tokenId}`;
  const hit = vendorRoles.get(cacheKey);
  if (hit) return hit.teamId === null || hit.teamId === teamId ? hit.role : null;
  if (p.kind === "user") {
    const m = await db.membership.findUnique({ where: { teamId_userId: { teamId, userId: p.userId } }, select: { role: true } });
    const role = m && isRole(m.role) ? m.role : null;
    vendorRoles.set(cacheKey, { teamId, role });
    return role;
  }
  const token = await apiTokenById(p.tokenId);
  vendorRoles.set(cacheKey, { teamId: token?.team.id ?? "", role: token?.role ?? null });
  return token && token.team.id === teamId ? token.role : null;
}

/** Forgets what this process remembers (tests; after a change made here). */
export function forgetRegistryAccess(): void {
  apps.clear();
  vendorRoles.clear();
}

const NOT_FOUND_MESSAGE = (slug: string) => `No app "${slug.slice(0, 80)}" on this registry, or your login cannot see it.`;

/**
 * What a principal may do under an app, now. Null when it cannot see the app
 * (no such app, another team's): callers answer 404 NAME_UNKNOWN for both.
 * A license of another app, revoked or expired: ProxyError (403/401) with the
 * customer-facing reason, as at the proxy.
 */
export async function rightsOn(principal: Principal, slug: string): Promise<Rights | null> {
  if (principal.kind === "license") {
    const decision = await decideProxyPull(principal.keyHash, slug);
    if (!decision.allow) {
      if (decision.reason === "wrong_app") throw new ProxyError(403, "DENIED", decision.message);
      throw new ProxyError(401, "UNAUTHORIZED", decision.message);
    }
    const app = await appBySlug(slug);
    if (!app) return null;
    return { kind: "license", app, actions: new Set<Action>(["pull"]), decision };
  }
  const app = await appBySlug(slug);
  if (!app) return null;
  const role = await vendorRole(principal, app.teamId);
  if (!role) return null;
  const actions = new Set<Action>();
  if (can(role, "image:pull")) actions.add("pull");
  if (can(role, "image:push")) actions.add("push");
  if (can(role, "image:delete")) actions.add("delete");
  return { kind: "vendor", app, actions, role, principal };
}

export { NOT_FOUND_MESSAGE };

/** Who did it, for the push records: "user:<email>" / "token:<name>". */
export function principalLabel(p: Principal): string {
  return p.kind === "license" ? "license" : p.label;
}
