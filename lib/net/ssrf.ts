import dns from "node:dns";
import net from "node:net";
import ipaddr from "ipaddr.js";

/**
 * SSRF guard for server-side requests to vendor-supplied hosts. A host is
 * resolved once, every address it resolves to is checked, and the connection
 * is made to the checked address (the guard is the socket's DNS lookup), so a
 * second, different DNS answer cannot slip past the check.
 *
 * Only globally routable unicast addresses pass by default. Loopback, private,
 * link-local (incl. cloud metadata 169.254.169.254), CGNAT, unique-local,
 * multicast, reserved and IPv4-mapped forms of these are refused unless the
 * operator lists the host or a CIDR covering the address in
 * GANTRY_ALLOWED_PRIVATE_HOSTS.
 */
export class SsrfBlockedError extends Error {
  override name = "SsrfBlockedError";
  readonly code = "GANTRY_SSRF_BLOCKED";
  /**
   * The message names the host as it was asked for, never the address it
   * resolved to (an internal address must not reach the user who typed the
   * name); `address` and `range` are kept here for the server log.
   */
  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(
      `Refused to connect to ${host}: blocked by the SSRF guard (not a public address). ` +
        `If this registry is yours, an operator can allow it with GANTRY_ALLOWED_PRIVATE_HOSTS.`,
    );
  }

  /** For the server log only: "169.254.169.254 (linkLocal)". */
  get detail(): string {
    return `${this.address} (${this.range})`;
  }
}

/** An allowlist that allows nothing private: public addresses only. */
export const EMPTY_ALLOWLIST: Allowlist = { hosts: new Set(), cidrs: [] };

export interface Allowlist {
  hosts: Set<string>;
  cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

export function parseAllowlist(entries: string[]): Allowlist {
  const hosts = new Set<string>();
  const cidrs: Allowlist["cidrs"] = [];
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry.includes("/")) {
      cidrs.push(ipaddr.parseCIDR(entry));
    } else if (ipaddr.isValid(entry)) {
      const addr = ipaddr.parse(entry);
      cidrs.push([addr, addr.kind() === "ipv4" ? 32 : 128]);
    } else {
      hosts.add(entry.replace(/\.$/, ""));
    }
  }
  return { hosts, cidrs };
}

function normalize(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) return (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed;
}

/** The range name when the address is not public unicast, else null. */
export function nonPublicRange(address: string): string | null {
  const addr = normalize(address);
  const range = addr.range();
  if (range === "unicast") return null;
  return range;
}

export function isAllowedAddress(address: string, allow: Allowlist): boolean {
  const addr = normalize(address);
  return allow.cidrs.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
}

/** True when the operator listed this host by name, or an IP literal host within a listed CIDR. */
export function isHostAllowlisted(host: string, allow: Allowlist): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase().replace(/\.$/, "");
  if (allow.hosts.has(h)) return true;
  return ipaddr.isValid(h) && isAllowedAddress(h, allow);
}

/** The scheme for a registry Gantry has no endpoint for (a public image's): plain http only to hosts the operator allowed as private. */
export function schemeForHost(hostPort: string, allow: Allowlist): "http" | "https" {
  return isHostAllowlisted(hostPort.replace(/:\d+$/, ""), allow) ? "http" : "https";
}

/** Throws SsrfBlockedError unless the address may be reached for this host. */
export function checkAddress(host: string, address: string, allow: Allowlist): void {
  if (allow.hosts.has(host.toLowerCase().replace(/\.$/, ""))) return;
  const range = nonPublicRange(address);
  if (range && !isAllowedAddress(address, allow)) throw new SsrfBlockedError(host, address, range);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls/undici connect options that resolves once and refuses
 * non-public answers. With `all: true` callers get only checked addresses.
 */
export function guardedLookup(allow: Allowlist) {
  return function lookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
    const host = hostname.replace(/^\[|\]$/g, "");
    if (net.isIP(host)) {
      try {
        checkAddress(host, host, allow);
      } catch (e) {
        callback(e as NodeJS.ErrnoException, "", 0);
        return;
      }
      const family = net.isIP(host);
      if (options.all) callback(null, [{ address: host, family }]);
      else callback(null, host, family);
      return;
    }
    dns.lookup(host, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", 0);
      const list = addresses as dns.LookupAddress[];
      try {
        if (list.length === 0) throw Object.assign(new Error(`DNS returned no address for ${host}`), { code: "ENOTFOUND" });
        for (const a of list) checkAddress(host, a.address, allow);
      } catch (e) {
        return callback(e as NodeJS.ErrnoException, "", 0);
      }
      if (options.all) callback(null, list);
      else callback(null, list[0]?.address ?? "", list[0]?.family ?? 4);
    });
  };
}
