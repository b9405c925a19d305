import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { getToken } from "next-auth/jwt";
import { RequestCookies } from "next/dist/server/web/spec-extension/cookies";
import { z } from "zod";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { AppError, forbidden, notFound, unauthenticated } from "@/lib/errors";
import { apiCaller } from "@/lib/http/api-auth";
import { processWide } from "@/lib/process-wide";
import { licenseFromBasic } from "@/lib/proxy/auth";
import { enforceLimit } from "@/lib/rate-limit/limits";
import { errorBody } from "@/lib/http/map-error";
import { bundleError } from "./errors";
import { installSession, INSTALL_COOKIE, signInWithLicense, type InstallSession } from "@/lib/install/session";
import { findLicense } from "@/lib/licenses/api";
import { getCustomer } from "@/lib/licenses/customers";
import { isValidVersion } from "@/lib/releases/version";
import { teamContextForUser } from "@/lib/teams/access";
import { can } from "@/lib/teams/roles";
import { BeyondPinError, planBundle, type BundleRequest } from "./bundle";
import { bundleAnswer, writeAnswer } from "./serve";

/**
 * The air-gap download's three doors, served by plain Node beside Next (see
 * serve.ts for why), each with its own caller:
 * - GET|HEAD /api/v1/apps/{slug}/releases/{version}/airgap?license=<row id or fingerprint>[&public=false]
 *   — a team API token (owners and admins: the bundle holds the license ID); errors as the API's JSON;
 * - GET|HEAD /t/{team}/apps/{slug}/releases/{version}/airgap?customer=<id>[&public=false]
 *   — the vendor's browser session (the release page's link), same roles;
 * - GET|HEAD /install/releases/{version}/airgap — the customer: the install page's session, or the
 *   license ID as a Basic password (`curl -u LICENSE_ID:<license ID>`; failures count against the
 *   address's sign-in limit). Archived releases and those beyond the pin are absent (404).
 */
const API = /^\/api\/v1\/apps\/([^/]+)\/releases\/([^/]+)\/airgap$/;
const PORTAL = /^\/t\/([^/]+)\/apps\/([^/]+)\/releases\/([^/]+)\/airgap$/;
const INSTALL = /^\/install\/releases\/([^/]+)\/airgap$/;

export function isAirgapPath(pathname: string): boolean {
  return pathname.endsWith("/airgap") && (API.test(pathname) || PORTAL.test(pathname) || INSTALL.test(pathname));
}

const slugSchema = z.string().min(1).max(64);

function segment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw notFound("Release");
  }
}

function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  return headers;
}

function sendText(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(`${message}\n`);
}

function sendError(res: ServerResponse, e: unknown, route: string, json: boolean): void {
  const err = bundleError(e, { route });
  const headers: Record<string, string> = err.retryAfterSeconds ? { "retry-after": String(err.retryAfterSeconds) } : {};
  // The customer's door takes the license ID as a Basic password; the vendor's doors never prompt for one.
  if (err.code === "UNAUTHENTICATED" && INSTALL.test(route)) headers["www-authenticate"] = 'Basic realm="Gantry install"';
  if (json) {
    res.writeHead(err.status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
    res.end(JSON.stringify(errorBody(err)));
  } else {
    sendText(res, err.status, err.message, headers);
  }
}

export async function handleAirgapRequest(req: IncomingMessage, res: ServerResponse, clientIp: string | null): Promise<void> {
  const url = new URL(req.url ?? "/", "http://gantry.invalid");
  const json = API.test(url.pathname);
  try {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      throw new AppError("BAD_REQUEST", "Download a bundle with GET (or HEAD for its size).");
    }
    const headers = headersOf(req);
    const bundle = await which(url, headers, clientIp);
    // Every request plans the whole bundle (manifests, chart variants, the installer): bounded per
    // license in rate, and in downloads at once per license and per team, so one license cannot
    // starve the others' downloads or the server.
    await enforceLimit(`airgap:license:${bundle.licenseRowId}`, LIMITS.requestsPerMinute, 60, "bundle requests for this license");
    const release = admit(bundle.teamId, bundle.licenseRowId);
    res.once("close", release);
    const plan = await planBundle({ ...bundle, signal: abortOnClose(res) });
    const answer = bundleAnswer(plan, { method: req.method, range: headers.get("range"), ifRange: headers.get("if-range"), userAgent: headers.get("user-agent") }, clientIp);
    await writeAnswer(res, answer);
  } catch (e) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A customer asking beyond their pin sees no such release, as on the install page.
    if (e instanceof BeyondPinError && INSTALL.test(url.pathname)) return sendText(res, 404, "No such release for your license.");
    sendError(res, e, url.pathname, json);
  }
}

/** Per process: downloads at once per license and per team (a 20 GB download holds one for hours). */
export const LIMITS = { requestsPerMinute: 120, perLicense: 4, perTeam: 16 };
const running = processWide("airgap-downloads", () => ({ byLicense: new Map<string, number>(), byTeam: new Map<string, number>() }));

function admit(teamId: string, licenseRowId: string): () => void {
  const { byLicense, byTeam } = running;
  if ((byLicense.get(licenseRowId) ?? 0) >= LIMITS.perLicense) throw new AppError("RATE_LIMITED", `At most ${LIMITS.perLicense} downloads of bundles at once per license: let one finish first.`, { retryAfterSeconds: 30 });
  if ((byTeam.get(teamId) ?? 0) >= LIMITS.perTeam) throw new AppError("RATE_LIMITED", `At most ${LIMITS.perTeam} downloads of this vendor's bundles at once: try again shortly.`, { retryAfterSeconds: 30 });
  const bump = (map: Map<string, number>, key: string, by: number) => {
    const n = (map.get(key) ?? 0) + by;
    if (n <= 0) map.delete(key);
    else map.set(key, n);
  };
  bump(byLicense, licenseRowId, 1);
  bump(byTeam, teamId, 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    bump(byLicense, licenseRowId, -1);
    bump(byTeam, teamId, -1);
  };
}

function abortOnClose(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** Who asks for which bundle: the caller authenticated and authorized for its door. */
async function which(url: URL, headers: Headers, clientIp: string | null): Promise<Omit<BundleRequest, "signal">> {
  const includePublic = url.searchParams.get("public") !== "false";
  let m = API.exec(url.pathname);
  if (m) {
    const ctx = await apiCaller(headers);
    if (!can(ctx.role, "license:view-secret")) throw forbidden();
    const license = url.searchParams.get("license");
    if (!license) throw new AppError("VALIDATION", "Pass ?license=<license row id or fingerprint>.", { fields: { license: ["Required."] } });
    const found = await findLicense(ctx.team.id, license.slice(0, 200));
    return { teamId: ctx.team.id, appSlug: slugSchema.parse(segment(m[1]!)), version: segment(m[2]!), licenseRowId: found.id, includePublic };
  }
  m = PORTAL.exec(url.pathname);
  if (m) {
    const user = await sessionUser(headers);
    if (!user) throw unauthenticated();
    const ctx = await teamContextForUser(user, segment(m[1]!), "license:view-secret", clientIp);
    const customerId = url.searchParams.get("customer");
    if (!customerId) throw new AppError("BAD_REQUEST", "Choose a customer (?customer=…).");
    const customer = await getCustomer(ctx.team.id, customerId.slice(0, 200));
    const appSlug = segment(m[2]!);
    if (customer.app.slug !== appSlug) throw notFound("Customer");
    return { teamId: ctx.team.id, appSlug, version: segment(m[3]!), licenseRowId: customer.license.id, includePublic };
  }
  m = INSTALL.exec(url.pathname);
  if (!m) throw notFound("Release");
  const session = await customerSession(headers, clientIp);
  const version = segment(m[1]!);
  if (!isValidVersion(version)) throw notFound("Release");
  const shown = await db.release.findFirst({ where: { teamId: session.teamId, appId: session.appId, version, archivedAt: null }, select: { app: { select: { slug: true } } } });
  if (!shown) throw new AppError("NOT_FOUND", "No such release for your license.");
  return { teamId: session.teamId, appSlug: shown.app.slug, version, licenseRowId: session.licenseRowId, includePublic };
}

/** The portal's signed-in user from the Auth.js session cookie (a JWT), re-read from the database as pages do. */
async function sessionUser(headers: Headers): Promise<{ id: string; email: string } | null> {
  const cookie = headers.get("cookie");
  if (!cookie) return null;
  const only = new Headers({ cookie }); // the cookie alone: never a bearer header read as a session
  const secret = env().authSecret;
  for (const secureCookie of [true, false]) {
    const token = await getToken({ req: { headers: only }, secret, secureCookie });
    if (typeof token?.uid === "string") return db.user.findUnique({ where: { id: token.uid }, select: { id: true, email: true } });
  }
  return null;
}

/** `Authorization: Basic <any user>:<license ID>` (what `curl -u LICENSE_ID:<id>` sends), or the install page's cookie. */
async function customerSession(headers: Headers, clientIp: string | null): Promise<InstallSession> {
  const licenseId = licenseFromBasic(headers.get("authorization")?.slice(0, 2048) ?? undefined);
  if (licenseId !== null) {
    const signed = await signInWithLicense(licenseId, clientIp);
    if (!signed.ok) {
      if (signed.reason === "rate_limited") throw new AppError("RATE_LIMITED", signed.message, { retryAfterSeconds: signed.retryAfterSeconds ?? 60 });
      throw unauthenticated(signed.message);
    }
    const session = await installSession(signed.cookie);
    if (session) return session;
  }
  const cookie = new RequestCookies(headers).get(INSTALL_COOKIE)?.value;
  const session = await installSession(cookie);
  if (!session) throw unauthenticated("Sign in on the install page first, or send your license ID: curl -u LICENSE_ID:<license ID> …");
  return session;
}
