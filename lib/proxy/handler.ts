import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { env } from "@/lib/env";
import { log } from "@/lib/log";
import { TokenError } from "@/lib/registry-client/client";
import { formatBytes, RegistryNetworkError, ResponseTooLargeError } from "@/lib/registry-client/errors";
import { BODY_LIMITS, readBounded, watchThroughput, type HttpResponse } from "@/lib/registry-client/http";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { isInReleaseScope } from "@/lib/releases/scope";
import { authenticate, authorizePull, challengeHeader, checkBasicLicense, issueToken } from "./auth";
import { API_VERSION_HEADER, isRegistryErrorCode, ProxyError, sendError, type RegistryErrorCode } from "./errors";
import { parseProxyPath, type ProxyName } from "./paths";
import { recordPull } from "./pull-log";
import { appName, proxyStreamFloor, resolveRegistry, upstreamClient } from "./upstream";

/** Response headers passed through from the upstream unchanged. */
const PASS_HEADERS = ["content-type", "content-length", "docker-content-digest", "etag", "content-range", "accept-ranges", "last-modified"];

export interface ProxyRequestContext {
  clientIp: string | null;
}

/**
 * The token realm is on the host the client reached (its Host header), so the
 * token request goes where the client can connect. The scheme is https when
 * the socket is TLS, when a trusted proxy says so, or when the client used the
 * configured public proxy domain (TLS terminated in front of Gantry).
 */
function realmFor(req: IncomingMessage): { realm: string; service: string } {
  const config = env();
  const host = req.headers.host ?? config.proxyDomain;
  const forwardedProto = config.trustProxy ? String(req.headers["x-forwarded-proto"] ?? "").split(",")[0]?.trim() : "";
  const tls = "encrypted" in req.socket && Boolean(req.socket.encrypted);
  const proto = forwardedProto || (tls || (config.proxyDomainIsExplicit && host === config.proxyDomain) ? "https" : "http");
  return { realm: `${proto}://${host}/v2/token`, service: config.proxyDomain };
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
  try {
    const url = new URL(req.url ?? "/", "http://proxy.invalid");
    if (method !== "GET" && method !== "HEAD") {
      throw new ProxyError(405, "UNSUPPORTED", "This registry is read-only: push and delete are not supported.", { allow: "GET, HEAD" });
    }
    const route = parseProxyPath(url.pathname);
    const { realm, service } = realmFor(req);

    if (route.kind === "token") {
      const body = JSON.stringify(await issueToken(req.headers.authorization, url.searchParams.getAll("scope"), rctx.clientIp));
      res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), "cache-control": "no-store" });
      res.end(body);
      return;
    }
    if (route.kind === "catalog") throw new ProxyError(404, "UNSUPPORTED", "The catalog is not available on this proxy.");

    const scope = route.kind === "base" ? undefined : `repository:${route.name.full}:pull`;
    const caller = await authenticate(req.headers.authorization, rctx.clientIp);
    if (!caller) {
      throw new ProxyError(401, "UNAUTHORIZED", "Authentication required: docker login with your license.", { "www-authenticate": challengeHeader(realm, service, scope) });
    }
    if (route.kind === "base") {
      await checkBasicLicense(caller, rctx.clientIp);
      res.writeHead(200, { ...API_VERSION_HEADER, "content-type": "application/json", "content-length": "2" });
      res.end(method === "HEAD" ? undefined : "{}");
      return;
    }
    const decision = await authorizePull(caller, route.name.full, route.name.appSlug, rctx.clientIp).catch((e: unknown) => {
      if (e instanceof ProxyError && e.status === 401) e.headers["www-authenticate"] = challengeHeader(realm, service, scope, "insufficient_scope");
      throw e;
    });
    // The decision already names the app's team (the license is the app's): no app lookup on the way.
    const registry = await resolveRegistry(decision.teamId, route.name.upstream, route.name.appSlug);
    // What a license can reach: the app's releases' images (within its pin) and the app's extra patterns.
    // Matched on the registry's stored path name, so Docker Hub's spellings all mean docker.io.
    const inScope = await isInReleaseScope({ appId: decision.appId, upstreamRepository: `${registry.pathName}/${route.name.repository}`, license: decision.pin });
    if (!inScope) {
      throw new ProxyError(403, "DENIED", `${route.name.upstream}/${route.name.repository} is not part of ${await appName(decision.appId)}'s releases; ask your vendor.`);
    }
    const client = await upstreamClient(decision.teamId, registry);
    const reference = route.kind === "tags" ? "" : route.reference;
    const upstreamPath = route.kind === "tags" ? `v2/${route.name.repository}/tags/list${url.search}` : `v2/${route.name.repository}/${route.kind}/${route.reference}`;
    const headers: Record<string, string> = {};
    if (route.kind === "manifests") headers.accept = String(req.headers.accept ?? MANIFEST_ACCEPT);
    if (route.kind === "blobs" && req.headers.range) headers.range = String(req.headers.range);
    if (req.headers["if-none-match"]) headers["if-none-match"] = String(req.headers["if-none-match"]);

    const abort = new AbortController();
    res.on("close", () => abort.abort());
    let upstream;
    try {
      upstream = await client.request(method, upstreamPath, {
        scope: `repository:${route.name.repository}:pull`,
        headers,
        signal: abort.signal,
        // Blobs are streamed under a throughput floor; manifests and tags are small and get an overall deadline.
        mode: route.kind === "blobs" ? "stream" : "buffered",
      });
    } catch (e) {
      throw mapNetworkError(e, registry.id);
    }
    let bytes = 0;
    const finish = () =>
      recordPull({
        teamId: decision.teamId,
        appId: decision.appId,
        licenseId: decision.licenseRowId,
        repository: route.name.repository,
        kind: route.kind,
        reference,
        method,
        status: res.statusCode,
        bytesSent: bytes,
        durationMs: Math.round(performance.now() - started),
        clientIp: rctx.clientIp,
        userAgent: req.headers["user-agent"] ?? null,
      });
    res.once("close", finish);

    const status = upstream.statusCode;
    if (status === 404) {
      drop(upstream);
      throw new ProxyError(404, route.kind === "blobs" ? "BLOB_UNKNOWN" : route.kind === "tags" ? "NAME_UNKNOWN" : "MANIFEST_UNKNOWN", `${route.name.repository}${reference ? `:${reference}` : ""} was not found upstream.`);
    }
    if (status === 429) {
      await upstream.body.dump();
      const retry = upstream.headers["retry-after"];
      throw new ProxyError(429, "TOOMANYREQUESTS", "The upstream registry is rate limiting; retry later.", retry ? { "retry-after": String(retry) } : {});
    }
    if (status === 401 || status === 403) {
      await upstream.body.dump();
      log.warn("upstream refused the registry credentials", { registryId: registry.id, status });
      throw new ProxyError(502, "UNAVAILABLE", "The vendor's registry refused Gantry's credentials. The vendor has been told; try again later.");
    }
    if (status >= 400 && status < 500) {
      // Any other client error (400 bad digest, 416 range, …) is the client's to see, in the registry format.
      throw await upstreamClientError(upstream, status, client.host);
    }
    if (status >= 500 || (status >= 300 && status !== 304) || status < 200) {
      drop(upstream);
      throw new ProxyError(502, "UNAVAILABLE", `The upstream registry answered ${status}.`);
    }
    const out: Record<string, string> = { ...API_VERSION_HEADER };
    for (const h of PASS_HEADERS) {
      const v = upstream.headers[h];
      if (v !== undefined) out[h] = Array.isArray(v) ? v.join(", ") : String(v);
    }
    if (route.kind === "tags" && method === "HEAD") {
      // The rewritten list's length is unknown without reading it: headers only.
      drop(upstream);
      delete out["content-length"];
      res.writeHead(status, out);
      res.end();
      return;
    }
    if (route.kind === "tags") {
      let json: { name?: string; tags?: string[] };
      try {
        json = JSON.parse((await readBounded(upstream, BODY_LIMITS.tags, "a tag list", client.host)).toString("utf8")) as typeof json;
      } catch (e) {
        if (e instanceof SyntaxError) throw new ProxyError(502, "UNAVAILABLE", "The upstream registry sent a tag list that is not JSON.");
        throw mapNetworkError(e, registry.id);
      }
      if (!json || typeof json !== "object" || Array.isArray(json)) throw new ProxyError(502, "UNAVAILABLE", "The upstream registry sent a tag list that is not a JSON object.");
      const body = JSON.stringify({ ...json, name: route.name.full });
      delete out["content-length"];
      const link = proxiedTagsLink(upstream.headers.link, route.name.repository, route.name.full);
      if (link) out.link = link;
      res.writeHead(status, { ...out, "content-length": String(Buffer.byteLength(body)) });
      res.end(method === "HEAD" ? undefined : body);
      return;
    }
    let limit = Infinity;
    if (route.kind === "manifests" && method === "GET" && status !== 304) {
      // Manifests are bounded like distribution bounds them; a declared length over
      // the limit is refused before a byte is sent, and a manifest without a length
      // is buffered (at most the limit) so the client still gets a clean error.
      limit = BODY_LIMITS.manifest;
      const declared = out["content-length"] === undefined ? undefined : Number(out["content-length"]);
      if (declared === undefined || !Number.isFinite(declared)) {
        let body: Buffer;
        try {
          body = await readBounded(upstream, limit, "a manifest", client.host);
        } catch (e) {
          throw mapNetworkError(e, registry.id);
        }
        bytes = body.length;
        res.writeHead(status, { ...out, "content-length": String(body.length) });
        res.end(body);
        return;
      }
      if (declared > limit) {
        upstream.body.destroy();
        throw mapNetworkError(new ResponseTooLargeError("a manifest", limit, client.host), registry.id);
      }
    }
    res.writeHead(status, out);
    if (method === "HEAD" || status === 304) {
      drop(upstream);
      res.end();
      return;
    }
    upstream.body.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limit) upstream.body.destroy(new ResponseTooLargeError("a manifest", limit, client.host));
    });
    const stopWatch =
      route.kind === "blobs"
        ? watchThroughput(
            () => bytes,
            proxyStreamFloor,
            () => {
              log.warn("upstream blob below the throughput floor; cut", { registryId: registry.id, repository: route.name.repository, reference, bytes, floor: proxyStreamFloor });
              upstream.body.destroy(new RegistryNetworkError("timeout", `${client.host} sent the blob too slowly.`, client.host));
            },
          )
        : () => undefined;
    try {
      await pipeline(upstream.body, res);
    } catch (e) {
      // An upstream that dies mid-body, or a client that goes away: never end the
      // response cleanly, so the client's length/digest check cannot be fooled.
      res.destroy();
      upstream.body.destroy();
      if (!abort.signal.aborted) log.warn("stream aborted", { repository: route.name.repository, reference, error: e instanceof Error ? e.message : String(e) });
    } finally {
      stopWatch();
    }
  } catch (e) {
    const err = e instanceof ProxyError ? e : e instanceof RegistryNetworkError || e instanceof TokenError ? mapNetworkError(e) : internal(e);
    sendError(res, err, method);
  }
}

/** An error body we will not read: drop it (and its connection) rather than drain a possibly endless stream. */
function drop(upstream: HttpResponse): void {
  upstream.body.destroy();
}

/**
 * Upstream failures in words a container client shows its user. Never an
 * address: the details (resolved address, range, raw error) go to the log.
 */
/** An upstream 4xx as a registry-format error: its own code and message when it sent them, else the status in words. */
async function upstreamClientError(upstream: { body: { destroy(): void } } & Parameters<typeof readBounded>[0], status: number, host: string): Promise<ProxyError> {
  let code: RegistryErrorCode = "UNSUPPORTED";
  let message = `The upstream registry answered ${status}.`;
  try {
    const parsed = JSON.parse((await readBounded(upstream, 64 * 1024, "an error body", host)).toString("utf8")) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = parsed.errors?.[0];
    if (isRegistryErrorCode(first?.code)) code = first.code;
    if (typeof first?.message === "string" && first.message) message = `The upstream registry answered ${status}: ${first.message.slice(0, 300)}`;
  } catch {
    upstream.body.destroy(); // not JSON, or too long: the status says enough
  }
  return new ProxyError(status, code, message);
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

function mapNetworkError(e: unknown, registryId?: string): ProxyError {
  if (e instanceof ProxyError) return e;
  if (e instanceof TokenError) {
    log.warn("upstream token server refused", { registryId, status: e.status });
    return new ProxyError(502, "UNAVAILABLE", "The vendor's registry refused Gantry's credentials. The vendor has been told; try again later.");
  }
  if (e instanceof RegistryNetworkError) {
    log.warn("upstream request failed", { registryId, kind: e.kind, error: e.message, cause: e.cause instanceof Error ? e.cause.message : undefined });
    if (e instanceof ResponseTooLargeError) return new ProxyError(502, "UNAVAILABLE", `The upstream registry sent ${e.what} over ${formatBytes(e.limitBytes)}.`);
    if (e.kind === "timeout") return new ProxyError(504, "UNAVAILABLE", "The upstream registry did not answer in time.");
    if (e.kind === "blocked") return new ProxyError(502, "UNAVAILABLE", "The upstream registry (or a redirect or token server it named) is blocked by the SSRF guard.");
    if (e.kind === "protocol") return new ProxyError(502, "UNAVAILABLE", "The upstream registry did not answer like a container registry.");
    return new ProxyError(502, "UNAVAILABLE", "The upstream registry is unreachable.");
  }
  return internal(e);
}

function internal(e: unknown): ProxyError {
  log.error("registry proxy error", { error: e });
  return new ProxyError(500, "UNAVAILABLE", "Internal error in the registry proxy; it has been logged.");
}

export type { ProxyName };
