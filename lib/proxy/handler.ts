import type { IncomingMessage, ServerResponse } from "node:http";
import { proxyCache } from "@/lib/cache/cache";
import { requestDomain } from "@/lib/domains/served";
import { env } from "@/lib/env";
import { realmFor } from "@/lib/http/public-urls";
import { TokenError } from "@/lib/registry-client/client";
import { RegistryNetworkError } from "@/lib/registry-client/errors";
import { CloudCredentialError } from "@/lib/registries/cloud/types";
import { BODY_LIMITS, readBounded } from "@/lib/registry-client/http";
import { releaseScope } from "@/lib/releases/scope";
import { assertOnDomainTeam, authenticate, authorizePull, challengeHeader, checkBasicLicense, gantryAudience, issueToken } from "./auth";
import { serveBlob } from "./blobs";
import { API_VERSION_HEADER, ProxyError, sendError } from "./errors";
import { ask, clientGone, passHeaders, type Exchange } from "./exchange";
import { readTokenForm } from "./token-form";
import { serveManifest } from "./manifests";
import { parseProxyPath, type ProxyName } from "./paths";
import { checkPinnedManifest, refuseOutOfScope } from "./pin";
import { recordPull } from "./pull-log";
import { drop, internal, mapNetworkError, throwForUpstreamStatus } from "./upstream-errors";
import { resolveRegistry, upstreamClient } from "./upstream";

export interface ProxyRequestContext {
  clientIp: string | null;
}

/**
 * The pull side of the OCI distribution API, served by plain Node (not a Next
 * route handler, which strips Content-Length and buffers). Bodies are streamed
 * with backpressure; upstream redirects (blob storage) are followed server-side,
 * so clients never see upstream storage URLs or their signatures and every hop
 * stays behind the SSRF guard.
 */
export async function handleRegistryRequest(req: IncomingMessage, res: ServerResponse, rctx: ProxyRequestContext): Promise<void> {
  const method = req.method ?? "GET";
  const started = performance.now();
  const gone = clientGone(res);
  // A team's verified custom domain (set by the server's routing): its own audience, its own team's apps only.
  const domain = requestDomain(req);
  const on = domain ? { audience: domain.name, teamId: domain.teamId } : gantryAudience();
  try {
    const url = new URL(req.url ?? "/", "http://proxy.invalid");
    if (method === "POST" && url.pathname === "/v2/token") {
      // containerd asks for tokens with an OAuth2 password grant first (POST, form body).
      const grant = await readTokenForm(req);
      const body = JSON.stringify(await issueToken(grant.authorization, grant.scopes, rctx.clientIp, new Date(), on));
      res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), "cache-control": "no-store" });
      res.end(body);
      return;
    }
    if (method !== "GET" && method !== "HEAD") {
      throw new ProxyError(405, "UNSUPPORTED", "This registry is read-only: push and delete are not supported.", { allow: "GET, HEAD" });
    }
    const route = parseProxyPath(url.pathname);
    const { realm, service } = realmFor(req, env(), "proxy", domain?.name);

    if (route.kind === "token") {
      const body = JSON.stringify(await issueToken(req.headers.authorization, url.searchParams.getAll("scope"), rctx.clientIp, new Date(), on));
      res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), "cache-control": "no-store" });
      res.end(body);
      return;
    }
    if (route.kind === "catalog") throw new ProxyError(404, "UNSUPPORTED", "The catalog is not available on this proxy.");

    const scope = route.kind === "base" ? undefined : `repository:${route.name.full}:pull`;
    const caller = await authenticate(req.headers.authorization, rctx.clientIp, on.audience);
    if (!caller) {
      throw new ProxyError(401, "UNAUTHORIZED", "Authentication required: docker login with your license.", { "www-authenticate": challengeHeader(realm, service, scope) });
    }
    if (route.kind === "base") {
      await checkBasicLicense(caller, rctx.clientIp, new Date(), on.teamId);
      res.writeHead(200, { ...API_VERSION_HEADER, "content-type": "application/json", "content-length": "2" });
      res.end(method === "HEAD" ? undefined : "{}");
      return;
    }
    if (on.teamId !== null) await assertOnDomainTeam(caller, on.teamId, route.name.appSlug);
    const decision = await authorizePull(caller, route.name.full, route.name.appSlug, rctx.clientIp).catch((e: unknown) => {
      if (e instanceof ProxyError && e.status === 401) e.headers["www-authenticate"] = challengeHeader(realm, service, scope, "insufficient_scope");
      throw e;
    });
    // The decision already names the app's team (the license is the app's): no app lookup on the way.
    const registry = await resolveRegistry(decision.teamId, route.name.upstream, route.name.appSlug);
    // What a license can reach: the app's releases' images (within its pin) and the app's extra patterns.
    // Matched on the registry's stored path name, so Docker Hub's spellings all mean docker.io.
    const inScope = await releaseScope({ appId: decision.appId, upstreamRepository: `${registry.pathName}/${route.name.repository}`, license: decision.pin });
    if (inScope.kind === "outside" || inScope.kind === "beyond-pin") await refuseOutOfScope(inScope, `${route.name.upstream}/${route.name.repository}`, decision.appId);
    const client = await upstreamClient(decision.teamId, registry);
    const x: Exchange = {
      req,
      res,
      method: method === "HEAD" ? "HEAD" : "GET",
      name: route.name,
      registryId: registry.id,
      client,
      get signal() {
        return gone.signal;
      },
      scope: proxyCache() ? { teamId: decision.teamId, appId: decision.appId, registryId: registry.id, repository: route.name.repository } : null,
      owner: { teamId: decision.teamId, appId: decision.appId },
      bytes: 0,
    };
    // A pinned license: only its releases' tags, and the digests they resolved to (blobs stay repository-scoped).
    if (inScope.kind === "pinned" && route.kind === "manifests") await checkPinnedManifest(x, inScope, route.reference, decision.appId);
    const reference = route.kind === "tags" ? "" : route.reference;
    res.once("close", () =>
      recordPull({
        teamId: decision.teamId,
        appId: decision.appId,
        licenseId: decision.licenseRowId,
        repository: route.name.repository,
        kind: route.kind,
        reference,
        method,
        status: res.statusCode,
        bytesSent: x.bytes,
        durationMs: Math.round(performance.now() - started),
        clientIp: rctx.clientIp,
        userAgent: req.headers["user-agent"] ?? null,
      }),
    );
    if (route.kind === "blobs") await serveBlob(x, route.reference);
    else if (route.kind === "manifests") await serveManifest(x, route.reference);
    else await serveTags(x, url.search, inScope.kind === "pinned" ? inScope.tags : null);
  } catch (e) {
    const err = e instanceof ProxyError ? e : e instanceof RegistryNetworkError || e instanceof TokenError || e instanceof CloudCredentialError ? mapNetworkError(e) : internal(e);
    sendError(res, err, method);
  }
}


/**
 * tags/list, passed through with the name and the pagination link rewritten to the proxied name;
 * for a pinned license only the tags its releases name (`only`), page by page as the upstream pages.
 */
async function serveTags(x: Exchange, search: string, only: ReadonlySet<string> | null): Promise<void> {
  const upstream = await ask(x, x.method, `v2/${x.name.repository}/tags/list${search}`, {}, "buffered");
  if (upstream.statusCode !== 200) await throwForUpstreamStatus(upstream, "tags", x.name.repository, x.registryId, x.client.host);
  const out = passHeaders(upstream);
  delete out["content-length"];
  if (x.method === "HEAD") {
    // The rewritten list's length is unknown without reading it: headers only.
    drop(upstream);
    x.res.writeHead(200, out);
    x.res.end();
    return;
  }
  let json: { name?: string; tags?: string[] };
  try {
    json = JSON.parse((await readBounded(upstream, BODY_LIMITS.tags, "a tag list", x.client.host)).toString("utf8")) as typeof json;
  } catch (e) {
    if (e instanceof SyntaxError) throw new ProxyError(502, "UNAVAILABLE", "The upstream registry sent a tag list that is not JSON.");
    throw mapNetworkError(e, x.registryId, x.client.host);
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) throw new ProxyError(502, "UNAVAILABLE", "The upstream registry sent a tag list that is not a JSON object.");
  const tags = only && Array.isArray(json.tags) ? json.tags.filter((t) => only.has(t)) : json.tags;
  const body = JSON.stringify({ ...json, name: x.name.full, ...(only ? { tags: tags ?? [] } : {}) });
  const link = proxiedTagsLink(upstream.headers.link, x.name.repository, x.name.full);
  if (link) out.link = link;
  x.bytes = Buffer.byteLength(body);
  x.res.writeHead(200, { ...out, "content-length": String(x.bytes) });
  x.res.end(body);
}

/**
 * The upstream's pagination link for tags/list, pointing at the proxied name:
 * `</v2/acme/api/tags/list?n=2&last=b>; rel="next"` →
 * `</v2/proxy/<app>/<upstream>/acme/api/tags/list?n=2&last=b>; rel="next"`. A link
 * anywhere else (another repository, another host's path) is dropped.
 */
export function proxiedTagsLink(header: string | string[] | undefined, repository: string, proxiedName: string): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = value ? /^\s*<([^>]{1,2048})>\s*;\s*rel="?next"?\s*$/i.exec(value) : null;
  if (!m?.[1]) return undefined;
  let target: URL;
  try {
    target = new URL(m[1], "http://upstream.invalid");
  } catch {
    return undefined;
  }
  if (target.pathname !== `/v2/${repository}/tags/list`) return undefined;
  return `</v2/${proxiedName}/tags/list${target.search}>; rel="next"`;
}

export type { ProxyName };
