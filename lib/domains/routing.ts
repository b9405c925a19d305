import type { IncomingMessage, ServerResponse } from "node:http";
import type { Env } from "@/lib/env";
import { isConfiguredHost } from "@/lib/http/public-urls";
import { log } from "@/lib/log";
import { ProxyError, sendError } from "@/lib/proxy/errors";
import { hostWithoutPort, normalizeDomainName } from "./names";
import { domainForHost, isVerifiedDomain, setRequestDomain, type ServedDomain } from "./served";

/** Whether a Host names one of Gantry's own URLs (portal, proxy, registry): no custom-domain lookup for those. */
export function isOwnHost(host: string, config: Pick<Env, "urls">): boolean {
  const { portal, proxy, registry } = config.urls;
  return isConfiguredHost(host, proxy) || isConfiguredHost(host, portal) || (registry !== undefined && isConfiguredHost(host, registry));
}

/**
 * How a request on a name that is not Gantry's own is served:
 * - "own": not a custom domain (an address, a name nobody claimed): as before;
 * - "proxy" / "registry": a verified custom domain of that face, marked on the
 *   request (requestDomain) for the audience and team checks;
 * - answered: a claimed name that is not verified (pending, failed) or a path
 *   its face does not serve, refused here in the registry error format.
 */
export async function routeCustomDomain(req: IncomingMessage, res: ServerResponse, host: string, isRegistryApi: boolean): Promise<"own" | "proxy" | "registry" | "answered"> {
  let domain: ServedDomain | null;
  try {
    domain = await domainForHost(host);
  } catch (e) {
    log.error("custom domains: lookup failed", { error: e });
    sendError(res, new ProxyError(503, "UNAVAILABLE", "Gantry cannot read its domains right now. Try again in a few seconds.", { "retry-after": "5" }), req.method ?? "GET");
    return "answered";
  }
  if (!domain) return "own";
  if (domain.status !== "verified") {
    // Pull secrets issued for a name that lost its record stop working here, in the client's own format.
    sendError(res, new ProxyError(404, "NAME_UNKNOWN", `${domain.name} is not a verified domain on this Gantry (its DNS record is missing); ask your vendor.`), req.method ?? "GET");
    return "answered";
  }
  if (domain.service === "proxy" && !isRegistryApi) {
    sendError(res, new ProxyError(404, "NAME_UNKNOWN", `${domain.name} serves the registry API (/v2/) only.`), req.method ?? "GET");
    return "answered";
  }
  setRequestDomain(req, domain);
  return domain.service;
}

/**
 * GET /tls/ask?domain=<name>: 200 when a certificate may be issued for the name
 * (a verified custom domain), 404 otherwise. The hook Caddy's on-demand TLS
 * calls before it obtains a certificate. Unauthenticated and cheap: answered
 * from the in-memory view of the domains (reloaded at most every 2 s, one
 * query per server whatever the traffic).
 */
export async function answerTlsAsk(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const send = (status: number, body: string) => {
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": String(Buffer.byteLength(body)), "cache-control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : body);
  };
  if (req.method !== "GET" && req.method !== "HEAD") return send(405, "GET /tls/ask?domain=<name>\n");
  const raw = new URL(req.url ?? "/", "http://ask.invalid").searchParams.get("domain") ?? "";
  let name: string;
  try {
    name = normalizeDomainName(hostWithoutPort(raw.slice(0, 300)));
  } catch {
    return send(404, "not a verified domain\n");
  }
  try {
    return (await isVerifiedDomain(name)) ? send(200, "ok\n") : send(404, "not a verified domain\n");
  } catch (e) {
    log.error("tls ask failed", { error: e });
    return send(503, "unavailable\n");
  }
}
