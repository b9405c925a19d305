import type { IncomingMessage, ServerResponse } from "node:http";
import { requestDomain } from "@/lib/domains/served";
import { log } from "@/lib/log";
import { challengeHeader } from "@/lib/proxy/auth";
import { ProxyError, sendError } from "@/lib/proxy/errors";
import { readTokenForm } from "@/lib/proxy/token-form";
import { pathNameFor } from "@/lib/registries/endpoint";
import { appTeamOf, authenticateRequest, isForeignLicense, issueRegistryToken, NOT_FOUND_MESSAGE, rightsOn, type Action, type Caller, type Rights } from "./access";
import { blob } from "./blobs";
import { refuseBelowDiskFloor } from "./disk-floor";
import { manifest } from "./manifests";
import { parseHostedPath } from "./paths";
import { refuseWhileReadOnly } from "./read-only";
import { checkReleaseScope } from "./scope";
import { serveReferrers } from "./referrers";
import { internal, json, type Ctx, type HostedRegistryConfig } from "./request";
import { StorageUnavailable } from "./storage";
import { serveTags } from "./tags";
import { continueUpload, startUpload } from "./uploads";

export type { HostedRegistryConfig };

/**
 * Gantry's own registry: the OCI distribution API on its own host name (or
 * port), in front of distribution. Every request is authenticated and
 * authorized here (access.ts), then passed to distribution on loopback with a
 * token Gantry signed for exactly that repository and action; nothing reaches
 * distribution any other way. Names map from "<app slug>/<image>" to
 * "<app id>/<image>" (storage.ts) and back in every Location.
 *
 * Where distribution 2.8 falls short of the OCI distribution spec, Gantry
 * answers itself: references are validated (400 DIGEST_INVALID, never a 500),
 * tags live in Gantry's database (sorted, paginated with n/last and Link,
 * deletable one by one), upload sessions are tracked (an out-of-order chunk
 * is 416, a status request 204 with the range, on any replica), and the
 * referrers API and OCI-Subject are served from the manifests Gantry recorded.
 */
function requiredAction(method: string): Action {
  if (method === "GET" || method === "HEAD") return "pull";
  if (method === "DELETE") return "delete";
  return "push";
}

export async function handleHostedRegistry(req: IncomingMessage, res: ServerResponse, config: HostedRegistryConfig, clientIp: string | null): Promise<void> {
  const method = req.method ?? "GET";
  const abort = new AbortController();
  res.once("close", () => abort.abort());
  const ctx: Ctx = { req, res, method, url: new URL(req.url ?? "/", "http://registry.invalid"), clientIp, config, signal: abort.signal };
  try {
    await route(ctx);
  } catch (e) {
    // The client went away (or its body was cut): nobody to answer, nothing to report.
    if (abort.signal.aborted && !(e instanceof ProxyError)) return void res.destroy();
    const err = e instanceof ProxyError ? e : e instanceof StorageUnavailable ? unavailable(e) : internal(e);
    // A request body nobody read must not be left on the connection.
    if (!req.complete && !res.headersSent) res.setHeader("connection", "close");
    sendError(res, err, method);
  }
}

function unavailable(e: StorageUnavailable): ProxyError {
  log.warn("registry storage unavailable", { error: e.message });
  return new ProxyError(503, "UNAVAILABLE", "The registry's storage is restarting or unreachable. Try again in a few seconds.", { "retry-after": "5" });
}

async function route(ctx: Ctx): Promise<void> {
  const { method, url, req, res, config } = ctx;
  const route = parseHostedPath(url.pathname);
  if (route.kind === "token") {
    if (method !== "GET" && method !== "POST") throw new ProxyError(405, "UNSUPPORTED", "The token endpoint takes GET or POST.", { allow: "GET, POST" });
    const grant = method === "POST" ? await readTokenForm(req) : { authorization: req.headers.authorization, scopes: url.searchParams.getAll("scope") };
    const { service } = config.realmFor(req);
    const body = await issueRegistryToken({ authorization: grant.authorization, scopes: grant.scopes, ip: ctx.clientIp, service, secret: config.secret, domainTeamId: requestDomain(req)?.teamId ?? null });
    json(res, 200, body, { "cache-control": "no-store" });
    return;
  }
  const { realm, service } = config.realmFor(req);
  const scope = "name" in route ? `repository:${route.name.full}:${scopeActions(requiredAction(method))}` : undefined;
  const caller = await authenticateRequest(req.headers.authorization, ctx.clientIp, service, config.secret);
  if (!caller) {
    throw new ProxyError(401, "UNAUTHORIZED", "Authentication required: docker login with your Gantry email and password, an API token, or your license.", {
      "www-authenticate": challengeHeader(realm, service, scope),
    });
  }
  if (route.kind === "base") {
    if (method !== "GET" && method !== "HEAD") throw new ProxyError(405, "UNSUPPORTED", "Use GET or HEAD.", { allow: "GET, HEAD" });
    json(res, 200, {}, {}, method === "HEAD");
    return;
  }
  if (route.kind === "catalog") throw new ProxyError(404, "UNSUPPORTED", "The catalog is not available: each app lists its images in the portal.");

  const action = requiredAction(method);
  const domain = requestDomain(req);
  // On a team's custom domain another team's app is answered exactly like one that does not exist.
  const foreign = domain !== null && ((await appTeamOf(route.name.appSlug)) !== domain.teamId || (await isForeignLicense(caller.principal, domain.teamId)));
  const rights = foreign ? null : await rightsOn(caller.principal, route.name.appSlug);
  if (!rights) throw new ProxyError(404, "NAME_UNKNOWN", NOT_FOUND_MESSAGE(route.name.appSlug));
  if (!rights.actions.has(action)) throw new ProxyError(403, "DENIED", deniedMessage(rights, action));
  checkGrant(caller, route.name.full, action, realm, service);
  if (action !== "pull") await refuseWhileReadOnly();
  if (action === "push") await refuseBelowDiskFloor(config.volumeDir);
  // A license: its app's releases (within its pin) and extra patterns; `visibleTags` bounds a pinned license's tag list.
  const visibleTags = rights.kind === "license" ? await checkReleaseScope(ctx, rights, route) : null;

  switch (route.kind) {
    case "tags":
      return serveTags(ctx, rights, route.name, visibleTags);
    case "referrers":
      return serveReferrers(ctx, rights, route.name, route.digest);
    case "manifests":
      return manifest(ctx, rights, route);
    case "blobs":
      return blob(ctx, rights, route.name, route.digest);
    case "upload-start":
      return startUpload(ctx, caller, rights, route.name);
    case "upload":
      return continueUpload(ctx, caller, rights, route.name, route.id);
  }
}

const scopeActions = (a: Action) => (a === "push" ? "pull,push" : a);

function deniedMessage(rights: Rights, action: Action): string {
  if (rights.kind === "license") return "A license can pull only.";
  const who = rights.principal.kind === "token" ? "This API token" : "Your role";
  return `${who} (${rights.role}) can pull but not ${action}: pushing and deleting need an owner or admin (or an admin-role API token).`;
}

/** A Bearer token must cover the repository and action (a token is for what it was asked for). */
function checkGrant(caller: Caller, name: string, action: Action, realm: string, service: string): void {
  if (caller.grants === null) return;
  if (caller.grants.get(name)?.has(action)) return;
  throw new ProxyError(401, "UNAUTHORIZED", "The token does not cover this repository and action: ask /v2/token for it.", {
    "www-authenticate": challengeHeader(realm, service, `repository:${name}:${scopeActions(action)}`, "insufficient_scope"),
  });
}

export const registryPathNameOf = (host: string | undefined) => (host ? pathNameFor(host) : null);
