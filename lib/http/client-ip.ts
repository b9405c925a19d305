import { env } from "@/lib/env";

/**
 * The header Gantry's own server (lib/server) sets on every request from the
 * socket address (or, with GANTRY_TRUST_PROXY, from X-Forwarded-For). Any value
 * a client sends for it is overwritten there, so it can be trusted here.
 */
export const CLIENT_IP_HEADER = "x-gantry-client-ip";

/** Picks the client address: the first X-Forwarded-For hop when trusted, else the socket. */
export function resolveClientIp(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, trustProxy: boolean): string | null {
  if (trustProxy && forwardedFor) {
    const first = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor).split(",")[0]?.trim();
    if (first) return normalizeIp(first);
  }
  return socketAddress ? normalizeIp(socketAddress) : null;
}

function normalizeIp(ip: string): string {
  return ip.startsWith("::ffff:") ? ip.slice("::ffff:".length) : ip;
}

export function clientIpFromHeaders(headers: Headers): string | null {
  const value = headers.get(CLIENT_IP_HEADER);
  if (value) return value;
  // Served without Gantry's server (e.g. `next dev`): only trust the forwarded header when told to.
  return env().trustProxy ? resolveClientIp(undefined, headers.get("x-forwarded-for") ?? undefined, true) : null;
}
