import { isHostAllowlisted, parseAllowlist } from "@/lib/net/ssrf";
import { DOCKER_HUB, DOCKER_HUB_API, isDockerHub, PATH_COMPONENT_RE } from "@/lib/registry-client/reference";

export interface NormalizedEndpoint {
  /** scheme://host[:port] for the registry API. */
  endpoint: string;
  apiHost: string;
  /** The host images are written with. */
  imageHost: string;
  /** The proxy path component suggested for this upstream. */
  defaultPathName: string;
}

export class EndpointError extends Error {
  override name = "EndpointError";
}

const HOST_RE = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

/**
 * Normalizes what a vendor types as a registry endpoint: a host with an
 * optional port and an optional http:// or https:// scheme (https by default).
 * Plain http is accepted only for hosts the operator allowed as private.
 * Docker Hub spelled docker.io, index.docker.io or registry-1.docker.io is one
 * upstream: API on registry-1.docker.io, images written as docker.io.
 */
export function normalizeEndpoint(input: string, allowedPrivateHosts: string[]): NormalizedEndpoint {
  const raw = input.trim();
  const m = /^(?:(https?):\/\/)?([^/?#\s]+)\/?$/i.exec(raw);
  if (!m) throw new EndpointError("Enter a host with an optional port, e.g. quay.io or registry.example.com:5000 (no path).");
  const scheme = (m[1] ?? "https").toLowerCase();
  const host = (m[2] ?? "").toLowerCase();
  if (!HOST_RE.test(host)) throw new EndpointError(`"${m[2]}" is not a valid host[:port].`);
  const port = /:(\d+)$/.exec(host)?.[1];
  if (port && (Number(port) < 1 || Number(port) > 65535)) throw new EndpointError("The port must be between 1 and 65535.");
  if (scheme === "http" && !isHostAllowlisted(host.replace(/:\d+$/, ""), parseAllowlist(allowedPrivateHosts))) {
    throw new EndpointError("Plain http:// is only allowed for hosts the operator lists in GANTRY_ALLOWED_PRIVATE_HOSTS. Use https://.");
  }
  if (isDockerHub(host)) {
    return { endpoint: `https://${DOCKER_HUB_API}`, apiHost: DOCKER_HUB_API, imageHost: DOCKER_HUB, defaultPathName: DOCKER_HUB };
  }
  return { endpoint: `${scheme}://${host}`, apiHost: host, imageHost: host, defaultPathName: pathNameFor(host) };
}

/**
 * A registry host as one path component of the proxy path. A colon is not
 * allowed in repository names, so host:port becomes host_port: "_" is a valid
 * separator in paths and can never occur in a DNS host name, so the mapping
 * is unambiguous. IPv6 literals drop their brackets and colons become "_".
 */
export function pathNameFor(host: string): string {
  return host.toLowerCase().replace(/^\[|\]/g, "").replace(/:/g, "_");
}

export function isValidPathName(name: string): boolean {
  return name.length <= 128 && PATH_COMPONENT_RE.test(name);
}
