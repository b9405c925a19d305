import "server-only";
import { BeyondPinError, planBundle } from "@/lib/airgap/bundle";
import { bundleResponse } from "@/lib/airgap/serve";
import { db } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { toAppError } from "@/lib/http/map-error";
import { isValidVersion } from "@/lib/releases/version";
import { installSession, signInWithLicense, type InstallSession } from "./session";

const text = (status: number, body: string, headers: Record<string, string> = {}) =>
  new Response(`${body}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...headers } });

/** `Authorization: Basic <any user>:<license ID>` (what `curl -u LICENSE_ID:<id>` sends), or null. */
function basicPassword(header: string | null): string | null {
  const m = header?.match(/^Basic\s+([A-Za-z0-9+/=]{1,1024})$/i);
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : decoded.slice(colon + 1);
}

/**
 * The customer's air-gap download: the install page's session, or the license
 * ID as a Basic password for scripted downloads (each failure counts against
 * the address's sign-in limit, as on the page). Archived releases and releases
 * beyond the license's pin are not there (404); a revoked or expired license
 * is told so (403).
 */
export async function customerAirgap(request: Request, rawVersion: string, cookie: string | undefined, clientIp: string | null): Promise<Response> {
  let session: InstallSession | null = null;
  const password = basicPassword(request.headers.get("authorization"));
  if (password !== null) {
    const signed = await signInWithLicense(password, clientIp);
    if (!signed.ok) {
      return signed.reason === "rate_limited"
        ? text(429, signed.message, { "retry-after": String(signed.retryAfterSeconds ?? 60) })
        : text(401, signed.message, { "www-authenticate": 'Basic realm="Gantry install"' });
    }
    session = await installSession(signed.cookie);
  } else {
    session = await installSession(cookie);
  }
  if (!session) return text(401, "Sign in on the install page first, or send your license ID: curl -u LICENSE_ID:<license ID> …", { "www-authenticate": 'Basic realm="Gantry install"' });
  let version: string;
  try {
    version = decodeURIComponent(rawVersion);
  } catch {
    return text(404, "No such release.");
  }
  if (!isValidVersion(version)) return text(404, "No such release.");
  const shown = await db.release.findFirst({ where: { teamId: session.teamId, appId: session.appId, version, archivedAt: null }, select: { app: { select: { slug: true } } } });
  if (!shown) return text(404, "No such release for your license.");
  try {
    const plan = await planBundle({ teamId: session.teamId, appSlug: shown.app.slug, version, licenseRowId: session.licenseRowId, includePublic: true, signal: request.signal });
    return bundleResponse(plan, request, { clientIp });
  } catch (e) {
    const err = isAppError(e) ? e : toAppError(e, { route: "install/airgap" });
    // Beyond the pin reads as absent, as on the page; a revoked license is told why.
    if (err instanceof BeyondPinError) return text(404, "No such release for your license.");
    return text(err.status, err.message, err.retryAfterSeconds ? { "retry-after": String(err.retryAfterSeconds) } : {});
  }
}
