import type { Env } from "@/lib/env";

/** The faces of Gantry a domain can serve: one each (a name serving both would make realm and routing ambiguous). */
export const DOMAIN_SERVICES = ["proxy", "registry"] as const;
export type DomainService = (typeof DOMAIN_SERVICES)[number];

export const DOMAIN_STATUSES = ["pending", "verified", "failed"] as const;
export type DomainStatus = (typeof DOMAIN_STATUSES)[number];

/** Where the TXT record lives. */
export const challengeName = (name: string) => `_gantry-challenge.${name}`;

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A domain name as stored: lowercased, without a trailing dot. Throws a
 * sentence for people when it is not a host name a certificate can be issued
 * for (no IP, no port, no wildcard, at least two labels, a non-numeric TLD).
 */
export function normalizeDomainName(input: string): string {
  const name = input.trim().toLowerCase().replace(/\.$/, "");
  if (!name) throw new DomainNameError("Enter a domain name, e.g. images.example.com.");
  if (name.length > 253) throw new DomainNameError("A domain name has at most 253 characters.");
  if (/^[a-z]+:\/\//.test(name) || name.includes("/")) throw new DomainNameError("Enter the name alone, without https:// or a path.");
  if (name.includes(":")) throw new DomainNameError("Enter the name without a port: TLS in front of Gantry serves it on 443.");
  if (name.includes("*")) throw new DomainNameError("Wildcards cannot be verified: add each name.");
  const labels = name.split(".");
  if (labels.length < 2) throw new DomainNameError("Enter a fully qualified name, e.g. images.example.com.");
  if (!labels.every((l) => LABEL.test(l))) throw new DomainNameError("Use letters, digits and dashes between the dots (each part 1-63 characters, no dash at either end).");
  if (/^\d+$/.test(labels.at(-1) ?? "")) throw new DomainNameError("An IP address is not a domain name.");
  return name;
}

export class DomainNameError extends Error {
  override name = "DomainNameError";
}

/** host[:port] or [v6]:port → the host name alone, lowercased, without a trailing dot. */
export function hostWithoutPort(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const colon = h.lastIndexOf(":");
  return (colon >= 0 && h.indexOf(":") === colon ? h.slice(0, colon) : h).replace(/\.$/, "");
}

/** Gantry's own host names (portal, proxy, registry), without ports. */
export function ownHostNames(config: Pick<Env, "urls">): string[] {
  const urls = [config.urls.portal, config.urls.proxy, config.urls.registry].filter((u) => u !== undefined);
  return [...new Set(urls.map((u) => hostWithoutPort(u.host)))];
}

/** Why a team cannot claim a name that is Gantry's own or under it, or null. */
export function reservedProblem(name: string, config: Pick<Env, "urls">): string | null {
  for (const own of ownHostNames(config)) {
    if (name === own || name.endsWith(`.${own}`)) return `${name} is ${name === own ? "" : "under "}this Gantry's own host name ${own}: it cannot be claimed.`;
  }
  return null;
}
