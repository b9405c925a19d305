import type { IncomingMessage } from "node:http";
import ipaddr from "ipaddr.js";
import proxyaddr from "proxy-addr";
import type { TrustedProxies } from "@/lib/env";

/**
 * The header Gantry's own server (lib/server) sets on every request from the
 * socket address (or, behind trusted proxies, from X-Forwarded-For). Any value
 * a client sends for it is overwritten there, so it can be trusted here.
 */
export const CLIENT_IP_HEADER = "x-gantry-client-ip";

/**
 * The client's address: the socket peer, or with trusted proxies the right-most
 * X-Forwarded-For entry that is not a trusted proxy (proxy-addr's algorithm):
 * entries left of it were written by the client and prove nothing.
 */
export function resolveClientIp(req: Pick<IncomingMessage, "headers" | "socket">, trust: TrustedProxies): string | null {
  if (!req.socket.remoteAddress) return null;
  if (trust.kind === "none") return normalizeIp(req.socket.remoteAddress);
  const fn = trust.kind === "hops" ? (_addr: string, i: number) => i < trust.hops : proxyaddr.compile(trust.cidrs);
  return normalizeIp(proxyaddr(req as IncomingMessage, fn));
}

/**
 * Whether the socket peer is a trusted reverse proxy (GANTRY_TRUST_PROXY), so
 * headers only such a proxy should set (X-Request-Id) may be believed.
 */
export function isTrustedPeer(req: Pick<IncomingMessage, "socket">, trust: TrustedProxies): boolean {
  const peer = req.socket.remoteAddress;
  if (!peer || trust.kind === "none") return false;
  if (trust.kind === "hops") return trust.hops >= 1;
  return proxyaddr.compile(trust.cidrs)(peer, 0);
}

function normalizeIp(ip: string): string {
  return ip.startsWith("::ffff:") && ipaddr.isValid(ip.slice(7)) ? ip.slice(7) : ip;
}

/**
 * The key rate limits count a client under: an IPv4 address as is, an IPv6
 * address by its /64 (one customer's network, which can rotate addresses within it).
 */
export function clientKey(ip: string | null): string | null {
  if (!ip || !ipaddr.isValid(ip)) return ip;
  const addr = ipaddr.parse(ip);
  if (addr.kind() === "ipv4") return addr.toString();
  const v6 = addr as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  return `${new ipaddr.IPv6([...v6.parts.slice(0, 4), 0, 0, 0, 0]).toString()}/64`;
}

export function clientIpFromHeaders(headers: Headers): string | null {
  return headers.get(CLIENT_IP_HEADER) || null;
}
