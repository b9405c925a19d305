import { NextResponse, type NextRequest } from "next/server";

// Redirects anonymous visitors of portal pages to /sign-in. A convenience only:
// every page, action and handler verifies the session and the team on the
// server. This deliberately only looks for the session cookie instead of running
// Auth.js here: Auth.js's middleware re-issues the cookie on every request, and a
// link prefetch finishing after a sign-out would then sign the user back in.
const SESSION_COOKIE = /^(__Secure-)?authjs\.session-token(\.\d+)?$/;

export default function proxy(request: NextRequest) {
  if (request.cookies.getAll().some((c) => SESSION_COOKIE.test(c.name))) return NextResponse.next();
  const url = new URL("/sign-in", request.url);
  url.searchParams.set("callbackUrl", `${request.nextUrl.pathname}${request.nextUrl.search}`);
  return NextResponse.redirect(url);
}

export const config = {
  matcher: ["/t/:path*", "/teams/:path*"],
};
