/**
 * Gantry's security response headers, in one place. Pure (no env, no I/O), so
 * that next.config.ts, proxy.ts and the plain-Node server (lib/server/main.ts)
 * can all import it.
 *
 * Who sets what:
 * - lib/server/main.ts, on every response (portal, /api, /v2/ registry API):
 *   `X-Content-Type-Options: nosniff` and, only for requests that arrived over
 *   https, `Strict-Transport-Security` ({@link setTransportSecurityHeaders}).
 * - next.config.ts, on every Next response: {@link STATIC_SECURITY_HEADERS};
 *   on /api/… (not seen by the proxy) also {@link API_CONTENT_SECURITY_POLICY}.
 * - proxy.ts, on every page and portal route handler: a per-request nonce and
 *   {@link contentSecurityPolicy}, as request header (Next reads the nonce from
 *   it and puts it on its own scripts) and as response header.
 */

export const HSTS_VALUE = "max-age=63072000; includeSubDomains";

/**
 * Headers for every response Next serves.
 * Referrer-Policy `same-origin`: portal URLs carry team and app slugs and
 * customer IDs (/t/acme/apps/x/customers/<id>), and Gantry links to nothing
 * that needs to know where a visitor came from; `same-origin` sends no Referer
 * at all to other origins (strict-origin-when-cross-origin would still reveal
 * the vendor's Gantry host) and keeps full referrers inside the app.
 */
export const STATIC_SECURITY_HEADERS: ReadonlyArray<{ key: string; value: string }> = [
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "same-origin" },
];

/** For responses that are never HTML to run (the JSON API): nothing may load, nobody may frame it. */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** A fresh, unguessable nonce (128 bits, base64) for one response. */
export function generateNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The portal's policy. Scripts: only those carrying this response's nonce (Next
 * puts it on its own inline and bundle scripts) and, through 'strict-dynamic',
 * the chunks those load. `'unsafe-eval'` only in `next dev`, where React uses
 * eval for server error stacks; never in a production build.
 *
 * style-src needs 'unsafe-inline' (and therefore carries no nonce, which would
 * switch 'unsafe-inline' off): Radix renders style attributes on the server
 * (VisuallyHidden, the hidden native select, popper positioning), and its
 * dialogs' scroll lock (react-remove-scroll) injects a <style> element at run
 * time without a nonce. Styles cannot run code, and the image, font and
 * connect rules below keep CSS from sending anything to another origin.
 */
export function contentSecurityPolicy(nonce: string, options: { dev?: boolean } = {}): string {
  if (!/^[A-Za-z0-9+/=_-]+$/.test(nonce)) throw new Error("invalid CSP nonce");
  const directives: Record<string, string[]> = {
    "default-src": ["'self'"],
    "script-src": ["'self'", `'nonce-${nonce}'`, "'strict-dynamic'", ...(options.dev ? ["'unsafe-eval'"] : [])],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'"],
    // 'self' also covers the dev server's same-origin HMR websocket.
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(" ")}`)
    .join("; ");
}

/** The nonce of a policy built by {@link contentSecurityPolicy}, if any. */
export function nonceOf(policy: string): string | undefined {
  return /'nonce-([^']+)'/.exec(policy)?.[1];
}

/**
 * Whether a request reached us over https: a TLS socket, or — only when a
 * reverse proxy in front of Gantry is trusted (GANTRY_TRUST_PROXY) — its
 * `X-Forwarded-Proto` (its first value; the trusted proxy is expected to set
 * it, overwriting what the client sent). Without a trusted proxy the header is
 * the client's word and is ignored. Gantry's own server speaks plain http, so
 * in practice https means "behind a trusted TLS-terminating proxy".
 */
export function isHttpsRequest(input: { encrypted: boolean; forwardedProto: string | string[] | undefined; trustProxy: boolean }): boolean {
  if (input.encrypted) return true;
  if (!input.trustProxy || input.forwardedProto === undefined) return false;
  const raw = Array.isArray(input.forwardedProto) ? input.forwardedProto.join(",") : input.forwardedProto;
  return raw.split(",")[0]?.trim().toLowerCase() === "https";
}

/** Headers the plain-Node server puts on every response, registry API included. */
export function transportSecurityHeaders(https: boolean): Record<string, string> {
  return { "X-Content-Type-Options": "nosniff", ...(https ? { "Strict-Transport-Security": HSTS_VALUE } : {}) };
}

interface RequestLike {
  socket: { encrypted?: boolean } | object;
  headers: Record<string, string | string[] | undefined>;
}
interface ResponseLike {
  setHeader(name: string, value: string): unknown;
}

/** One call for lib/server/main.ts: nosniff, and HSTS when the request came over https. */
export function setTransportSecurityHeaders(req: RequestLike, res: ResponseLike, trustProxy: boolean): void {
  const encrypted = "encrypted" in req.socket && req.socket.encrypted === true;
  const https = isHttpsRequest({ encrypted, forwardedProto: req.headers["x-forwarded-proto"], trustProxy });
  for (const [name, value] of Object.entries(transportSecurityHeaders(https))) res.setHeader(name, value);
}
