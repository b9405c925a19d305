import { NextResponse, type NextRequest } from "next/server";
import { env } from "./lib/env";
import { contentSecurityPolicy, generateNonce } from "./lib/http/security-headers";

// Runs for every page and portal route handler (see the matcher): sets a
// Content-Security-Policy with a fresh nonce on the request (Next reads the
// nonce from it and puts it on its own scripts; pages render per request, see
// app/layout.tsx) and on the response.
//
// It also redirects anonymous visitors of portal pages to /sign-in. A
// convenience only: every page, action and handler verifies the session and
// the team on the server. This deliberately only looks for the session cookie
// instead of running Auth.js here: Auth.js's middleware re-issues the cookie on
// every request, and a link prefetch finishing after a sign-out would then sign
// the user back in.
const SESSION_COOKIE = /^(__Secure-)?authjs\.session-token(\.\d+)?$/;
const PORTAL_PATH = /^\/(t|teams)(\/|$)/;

export default function proxy(request: NextRequest) {
  const nonce = generateNonce();
  // "development" only under `npm run dev`, which needs 'unsafe-eval' for Next's dev runtime.
  const csp = contentSecurityPolicy(nonce, { dev: env().nodeEnv === "development" });

  let response: NextResponse;
  if (PORTAL_PATH.test(request.nextUrl.pathname) && !request.cookies.getAll().some((c) => SESSION_COOKIE.test(c.name))) {
    const url = new URL("/sign-in", request.url);
    url.searchParams.set("callbackUrl", `${request.nextUrl.pathname}${request.nextUrl.search}`);
    response = NextResponse.redirect(url);
  } else {
    const requestHeaders = new Headers(request.headers);
    requestHeaders.set("content-security-policy", csp);
    response = NextResponse.next({ request: { headers: requestHeaders } });
  }
  response.headers.set("Content-Security-Policy", csp);
  return response;
}

export const config = {
  // Everything but build assets, /api (JSON; next.config.ts gives it a fixed policy) and the
  // registry API (/v2, plain Node in lib/server, never reaches Next).
  matcher: ["/((?!_next/static/|_next/image|favicon\\.ico|api/|api$|v2/|v2$).*)"],
};
