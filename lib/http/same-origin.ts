/**
 * CSRF guard for route handlers that act on the session cookie: a
 * state-changing request (POST, PUT, PATCH, DELETE) must carry an `Origin`
 * whose host[:port] is the host the request was sent to. Browsers send
 * `Origin` on every such request (fetch and form posts alike), so a missing
 * one, `null`, or a foreign one is refused.
 *
 * "The host the request was sent to" is the `Host` header as received. When a
 * reverse proxy in front of Gantry is trusted (GANTRY_TRUST_PROXY), its
 * `X-Forwarded-Host` (first value) is accepted as well, for proxies that
 * rewrite `Host`. Without a trusted proxy X-Forwarded-Host is ignored: Next
 * fills it in from Host when absent, but a client may send any value. The
 * scheme is not compared (as Next does for server actions): behind a
 * TLS-terminating proxy the app cannot see the scheme the browser used.
 */

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function isStateChangingMethod(method: string): boolean {
  return UNSAFE_METHODS.has(method.toUpperCase());
}

interface HeaderSource {
  get(name: string): string | null;
}

/** Why a request fails the check, or null when it passes (or is not state-changing). */
export function crossOriginProblem(method: string, headers: HeaderSource, trustProxy: boolean): string | null {
  if (!isStateChangingMethod(method)) return null;
  const origin = headers.get("origin");
  if (!origin || origin === "null") return "This request has no Origin header; it must come from Gantry's own pages.";
  let originHost: string;
  try {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("scheme");
    originHost = normalizeHost(url.host);
  } catch {
    return "This request's Origin header is not a valid origin.";
  }
  const allowed = new Set<string>();
  const host = headers.get("host");
  if (host) allowed.add(normalizeHost(host));
  if (trustProxy) {
    const forwarded = headers.get("x-forwarded-host")?.split(",")[0]?.trim();
    if (forwarded) allowed.add(normalizeHost(forwarded));
  }
  return allowed.has(originHost) ? null : "Cross-origin requests are not allowed.";
}

/** Lower-cases and drops a default port (:80, :443): browsers leave it out of Origin, some proxies put it in Host. */
function normalizeHost(value: string): string {
  return value.trim().toLowerCase().replace(/:(80|443)$/, "");
}
