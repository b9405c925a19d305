import type { IncomingMessage } from "node:http";
import type { Env, PublicUrl } from "@/lib/env";

/** What realmFor reads from the configuration. */
export type RealmConfig = Pick<Env, "urls" | "trustProxy" | "proxyDomain" | "registryDomain">;

const HOST_HEADER = /^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;
const DEFAULT_PORT = { http: ":80", https: ":443" } as const;

/** A Host header worth repeating in a challenge (a host[:port], nothing that could break the header), lowercased. */
function usableHost(value: string | undefined): string | undefined {
  const v = value?.trim().toLowerCase();
  return v && HOST_HEADER.test(v) ? v : undefined;
}

/** Whether `host` (lowercased) names the configured URL, with or without its scheme's default port. */
export function isConfiguredHost(host: string, url: PublicUrl): boolean {
  const bare = (h: string) => (h.endsWith(DEFAULT_PORT[url.scheme]) ? h.slice(0, -DEFAULT_PORT[url.scheme].length) : h);
  return bare(host) === bare(url.host.toLowerCase());
}

/** The first X-Forwarded-Proto value, when it is http or https. */
function forwardedProto(req: IncomingMessage): "http" | "https" | undefined {
  const raw = req.headers["x-forwarded-proto"];
  const first = (Array.isArray(raw) ? raw.join(",") : raw ?? "").split(",")[0]?.trim().toLowerCase();
  return first === "http" || first === "https" ? first : undefined;
}

/**
 * Where a client gets a token (the Bearer challenge's realm and service), for
 * the proxy or Gantry's own registry.
 *
 * The realm is on the host the client used (its Host header; the configured
 * host without one), so the token request goes where the client can connect,
 * at `/v2/token`. Its scheme: the configured public URL's when the client used
 * that URL's host (so TLS terminated in front of Gantry gives https, and a
 * plain-http install gives http); otherwise a trusted proxy's
 * X-Forwarded-Proto; otherwise https when the connection itself is TLS, else http.
 *
 * The service is the proxy's domain for the proxy (its tokens' audience, see
 * lib/proxy/auth.ts), and the registry's domain (or the Host) for the registry.
 *
 * On a team's custom domain (`domain`, lib/domains) the service is that name,
 * so a token is good only on the domain it was issued on, and the realm is
 * https (custom domains are served through TLS in front of Gantry) unless a
 * trusted proxy says otherwise.
 */
export function realmFor(req: IncomingMessage, config: RealmConfig, which: "proxy" | "registry", domain?: string): { realm: string; service: string } {
  if (domain) {
    const scheme = (config.trustProxy ? forwardedProto(req) : undefined) ?? "https";
    return { realm: `${scheme}://${usableHost(req.headers.host) ?? domain}/v2/token`, service: domain };
  }
  const configured = which === "proxy" ? config.urls.proxy : (config.urls.registry ?? config.urls.portal);
  const sent = usableHost(req.headers.host);
  const host = sent ?? configured.host;
  const tls = "encrypted" in req.socket && Boolean(req.socket.encrypted);
  const scheme = isConfiguredHost(host, configured) ? configured.scheme : ((config.trustProxy ? forwardedProto(req) : undefined) ?? (tls ? "https" : "http"));
  const service = which === "proxy" ? config.proxyDomain : (config.registryDomain ?? host);
  return { realm: `${scheme}://${host}/v2/token`, service };
}

/**
 * What a customer must do for a plain-http URL, in one sentence (container
 * clients insist on TLS for every host not listed as insecure); null for https.
 */
export function plainHttpNote(url: PublicUrl): string | null {
  if (url.scheme === "https") return null;
  return `${url.host} is served over plain http (${url.origin}), so clients must list it as an insecure registry first (Docker: "insecure-registries": ["${url.host}"] in /etc/docker/daemon.json).`;
}

/** The same as steps per client, for a README; empty for https. */
export function plainHttpSteps(url: PublicUrl): string[] {
  if (url.scheme === "https") return [];
  return [
    `Docker: add "${url.host}" to "insecure-registries" in /etc/docker/daemon.json and restart Docker.`,
    `containerd (Kubernetes nodes): /etc/containerd/certs.d/${url.host}/hosts.toml with server = "${url.origin}" and a [host."${url.origin}"] section.`,
    "skopeo, podman: --tls-verify=false (or insecure = true in registries.conf).",
  ];
}
