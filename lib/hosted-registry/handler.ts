import crypto from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline as pipelineCallback, Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Dispatcher } from "undici";
import { recordActivity, type Actor } from "@/lib/activity/record";
import { db } from "@/lib/db";
import { log } from "@/lib/log";
import { challengeHeader } from "@/lib/proxy/auth";
import { API_VERSION_HEADER, ProxyError, sendError } from "@/lib/proxy/errors";
import { recordPull } from "@/lib/proxy/pull-log";
import { readTokenForm } from "@/lib/proxy/token-form";
import { pathNameFor } from "@/lib/registries/endpoint";
import { isInReleaseScope } from "@/lib/releases/scope";
import { authenticateRequest, issueRegistryToken, NOT_FOUND_MESSAGE, principalLabel, rightsOn, type Action, type Caller, type Rights } from "./access";
import { parseHostedPath, parseName, type HostedName, type HostedRoute } from "./paths";
import { readOnlyState } from "./read-only";
import { deleteTag, forgetManifest, listReferrers, listTags, MANIFEST_MAX_BYTES, parseManifest, recordManifest, repositoryExists, resolveTag } from "./records";
import { callStorage, deleteAccess, pullAccess, pushAccess, StorageUnavailable, storageName, type StorageBackend } from "./storage";
import { readBody } from "./body";
import { openLinkedBlob, sendDiskBlob } from "./disk-blobs";

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
export interface HostedRegistryConfig {
  backend: StorageBackend;
  /** Realm and service for the request: on the host the client used. */
  realmFor(req: IncomingMessage): { realm: string; service: string };
  /** HMAC secret for registry tokens (AUTH_SECRET). */
  secret: string;
  /** Path name of the registry host, as release images record it ("registry.example.com"). */
  registryPathName(): string | null;
  /** The embedded distribution's storage root (…/docker/registry/v2): blobs are read from disk. Null for a backend. */
  diskRoot: string | null;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  url: URL;
  clientIp: string | null;
  config: HostedRegistryConfig;
  signal: AbortSignal;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, head = false) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...API_VERSION_HEADER, "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(head ? undefined : text);
};

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
    const err = e instanceof ProxyError ? e : e instanceof StorageUnavailable ? unavailable(e) : internal(e);
    // A request body nobody read must not be left on the connection.
    if (!req.complete) res.setHeader("connection", "close");
    sendError(res, err, method);
  }
}

function unavailable(e: StorageUnavailable): ProxyError {
  log.warn("registry storage unavailable", { error: e.message });
  return new ProxyError(503, "UNAVAILABLE", "The registry's storage is restarting or unreachable. Try again in a few seconds.", { "retry-after": "5" });
}

function internal(e: unknown): ProxyError {
  log.error("registry request failed", { error: e instanceof Error ? e.message : String(e) });
  return new ProxyError(500, "UNAVAILABLE", "The registry could not handle this request. Try again; if it persists, tell the registry's operator.");
}

async function route(ctx: Ctx): Promise<void> {
  const { method, url, req, res, config } = ctx;
  const route = parseHostedPath(url.pathname);
  if (route.kind === "token") {
    if (method !== "GET" && method !== "POST") throw new ProxyError(405, "UNSUPPORTED", "The token endpoint takes GET or POST.", { allow: "GET, POST" });
    const grant = method === "POST" ? await readTokenForm(req) : { authorization: req.headers.authorization, scopes: url.searchParams.getAll("scope") };
    const { service } = config.realmFor(req);
    const body = await issueRegistryToken({ authorization: grant.authorization, scopes: grant.scopes, ip: ctx.clientIp, service, secret: config.secret });
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
  const rights = await rightsOn(caller.principal, route.name.appSlug);
  if (!rights) throw new ProxyError(404, "NAME_UNKNOWN", NOT_FOUND_MESSAGE(route.name.appSlug));
  if (!rights.actions.has(action)) throw new ProxyError(403, "DENIED", deniedMessage(rights, action));
  checkGrant(caller, route.name.full, action, realm, service);
  if (action !== "pull") await refuseWhileReadOnly();
  if (rights.kind === "license") await checkReleaseScope(ctx, rights, route.name);

  switch (route.kind) {
    case "tags":
      return serveTags(ctx, rights, route.name);
    case "referrers":
      return serveReferrers(ctx, rights, route.name, route.digest);
    case "manifests":
      return manifest(ctx, rights, route);
    case "blobs":
      return blob(ctx, rights, route.name, route.digest);
    case "upload-start":
      return startUpload(ctx, caller, rights, route.name);
    case "upload":
      return continueUpload(ctx, rights, route.name, route.id);
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

async function refuseWhileReadOnly(): Promise<void> {
  const state = await readOnlyState();
  if (state) {
    throw new ProxyError(503, "UNAVAILABLE", `The registry is read-only for now (${state.reason ?? "maintenance"}); pulls work. Try the push again in a few minutes.`, {
      "retry-after": "60",
    });
  }
}

async function checkReleaseScope(ctx: Ctx, rights: Extract<Rights, { kind: "license" }>, name: HostedName): Promise<void> {
  const pathName = ctx.config.registryPathName();
  const inScope = pathName !== null && (await isInReleaseScope({ appId: rights.app.id, upstreamRepository: `${pathName}/${name.full}`, license: rights.decision.pin }));
  if (!inScope) throw new ProxyError(403, "DENIED", `${name.full} is not part of ${rights.app.name}'s releases; ask your vendor.`);
}

/** The customer pull log (licenses only), as at the proxy. */
function logPull(ctx: Ctx, rights: Rights, name: HostedName, kind: "manifests" | "blobs" | "tags", reference: string, bytes: () => number): void {
  if (rights.kind !== "license") return;
  const started = performance.now();
  ctx.res.once("close", () =>
    recordPull({
      teamId: rights.app.teamId,
      appId: rights.app.id,
      licenseId: rights.decision.licenseRowId,
      repository: `registry/${name.repository}`,
      kind,
      reference,
      method: ctx.method,
      status: ctx.res.statusCode,
      bytesSent: bytes(),
      durationMs: Math.round(performance.now() - started),
      clientIp: ctx.clientIp,
      userAgent: ctx.req.headers["user-agent"] ?? null,
    }),
  );
}

/** The team's activity log, for what vendors change through the registry API. */
async function logActivity(ctx: Ctx, rights: Rights, action: "image.pushed" | "image.tag_deleted" | "image.manifest_deleted", name: HostedName, reference: string, metadata: Record<string, string>): Promise<void> {
  if (rights.kind !== "vendor") return;
  const p = rights.principal;
  if (p.kind === "license") return;
  const actor: Actor = p.kind === "user" ? { type: "user", id: p.userId, label: p.label.replace(/^user:/, "") } : { type: "api_token", id: p.tokenId, label: `API token "${p.label.replace(/^token:/, "")}"` };
  const separator = reference.includes(":") ? "@" : ":";
  await recordActivity(db, {
    teamId: rights.app.teamId,
    actor,
    action,
    resourceType: "image",
    resourceId: `${rights.app.slug}/${name.repository}${separator}${reference}`,
    metadata: { app: rights.app.slug, repository: name.repository, via: "registry API", ...metadata },
    ip: ctx.clientIp,
  });
}

// ---------- reading ----------

function numberParam(url: URL, key: string): number | null {
  const raw = url.searchParams.get(key);
  if (raw === null) return null;
  if (!/^\d{1,6}$/.test(raw)) throw new ProxyError(400, "UNSUPPORTED", `${key} must be a non-negative integer.`);
  return Number(raw);
}

async function serveTags(ctx: Ctx, rights: Rights, name: HostedName): Promise<void> {
  if (ctx.method !== "GET" && ctx.method !== "HEAD") throw new ProxyError(405, "UNSUPPORTED", "tags/list takes GET.", { allow: "GET, HEAD" });
  const n = numberParam(ctx.url, "n");
  const last = ctx.url.searchParams.get("last");
  const { tags, more } = await listTags(rights.app.id, name.repository, { n, last });
  if (tags.length === 0 && last === null && !(await repositoryExists(rights.app.id, name.repository)) && !(await storageHasRepository(ctx, rights, name))) {
    throw new ProxyError(404, "NAME_UNKNOWN", `No image ${name.full} on this registry.`);
  }
  const headers: Record<string, string> = {};
  if (more && n !== null) {
    const next = new URLSearchParams({ n: String(n), last: tags.at(-1) ?? "" });
    headers.link = `</v2/${name.full}/tags/list?${next.toString()}>; rel="next"`;
  }
  const body = { name: name.full, tags };
  logPull(ctx, rights, name, "tags", "", () => Buffer.byteLength(JSON.stringify(body)));
  json(ctx.res, 200, body, headers, ctx.method === "HEAD");
}

/**
 * Whether distribution knows the repository (it had manifests, all deleted since): its tag list
 * answers 200 then, 404 NAME_UNKNOWN for a repository that never had one. Its tags are not
 * Gantry's (Gantry's database is the truth), only its existence is asked.
 */
async function storageHasRepository(ctx: Ctx, rights: Rights, name: HostedName): Promise<boolean> {
  const store = storageName(rights.app.id, name.repository);
  const upstream = await callStorage(ctx.config.backend, { method: "GET", path: `/v2/${store}/tags/list?n=1`, access: pullAccess(store), signal: ctx.signal });
  if (upstream.statusCode === 404) {
    await upstream.body.dump();
    return false;
  }
  if (upstream.statusCode >= 400) throw await storageError(upstream, "tag list");
  await upstream.body.dump();
  return true;
}

async function serveReferrers(ctx: Ctx, rights: Rights, name: HostedName, digest: string): Promise<void> {
  if (ctx.method !== "GET" && ctx.method !== "HEAD") throw new ProxyError(405, "UNSUPPORTED", "referrers takes GET.", { allow: "GET, HEAD" });
  const artifactType = ctx.url.searchParams.get("artifactType");
  const manifests = await listReferrers(rights.app.id, name.repository, digest, artifactType);
  const headers: Record<string, string> = { "content-type": "application/vnd.oci.image.index.v1+json" };
  if (artifactType !== null) headers["oci-filters-applied"] = "artifactType";
  json(ctx.res, 200, { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests }, headers, ctx.method === "HEAD");
}

/** Response headers from distribution worth passing on (hop-by-hop and auth headers are not). */
const PASSED = ["content-type", "content-length", "docker-content-digest", "etag", "content-range", "accept-ranges", "range", "docker-upload-uuid", "oci-subject", "last-modified"];

function passHeaders(upstream: Dispatcher.ResponseData, name: HostedName, appId: string): Record<string, string> {
  const out: Record<string, string> = { ...API_VERSION_HEADER };
  for (const h of PASSED) {
    const v = upstream.headers[h];
    if (typeof v === "string") out[h] = v;
  }
  const location = upstream.headers.location;
  if (typeof location === "string") out.location = clientLocation(location, name, appId);
  return out;
}

/** distribution's relative Location (/v2/<app id>/<repo>/…) as the client's name (/v2/<slug>/<repo>/…). */
function clientLocation(location: string, name: HostedName, appId: string): string {
  const prefix = `/v2/${storageName(appId, name.repository)}/`;
  if (location.startsWith(prefix)) return `/v2/${name.full}/${location.slice(prefix.length)}`;
  log.warn("distribution sent an unexpected Location", { location: location.slice(0, 200) });
  return location;
}

/** Turns a distribution error into the client's answer: its own registry errors pass, its auth failures are ours. */
async function storageError(upstream: Dispatcher.ResponseData, what: string): Promise<ProxyError> {
  const text = await upstream.body.text().catch(() => "");
  if (upstream.statusCode === 401 || upstream.statusCode === 403) {
    log.error("distribution refused Gantry's token", { status: upstream.statusCode, body: text.slice(0, 500) });
    return new ProxyError(500, "UNAVAILABLE", "The registry's storage refused the request. Tell the registry's operator.");
  }
  let code: string | undefined;
  let message: string | undefined;
  try {
    const first = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors?.[0];
    code = first?.code;
    message = first?.message;
  } catch {
    // not JSON: distribution's router 404 is plain text
  }
  if (upstream.statusCode >= 500) {
    log.error("distribution failed", { status: upstream.statusCode, what, body: text.slice(0, 500) });
    return new ProxyError(502, "UNAVAILABLE", "The registry's storage failed. Try again.");
  }
  const known = code && /^[A-Z_]+$/.test(code) ? (code as ProxyError["code"]) : upstream.statusCode === 404 ? "NAME_UNKNOWN" : "UNSUPPORTED";
  return new ProxyError(upstream.statusCode, known, message ?? `${what}: ${upstream.statusCode}`);
}

async function relay(ctx: Ctx, upstream: Dispatcher.ResponseData, headers: Record<string, string>, onBytes?: (n: number) => void): Promise<void> {
  ctx.res.writeHead(upstream.statusCode, headers);
  if (ctx.method === "HEAD") {
    upstream.body.resume();
    ctx.res.end();
    return;
  }
  if (onBytes) upstream.body.on("data", (c: Buffer) => onBytes(c.length));
  await pipeline(upstream.body, ctx.res).catch((e: unknown) => {
    if (!ctx.signal.aborted) log.warn("registry response cut short", { error: e instanceof Error ? e.message : String(e) });
  });
}

async function blob(ctx: Ctx, rights: Rights, name: HostedName, digest: string): Promise<void> {
  const store = storageName(rights.app.id, name.repository);
  if (ctx.method === "GET" || ctx.method === "HEAD") {
    let bytes = 0;
    logPull(ctx, rights, name, "blobs", digest, () => bytes);
    const range = ctx.req.headers.range;
    const onDisk = ctx.config.diskRoot ? await openLinkedBlob(ctx.config.diskRoot, store, digest) : null;
    if (onDisk) {
      await sendDiskBlob(ctx.res, ctx.method, onDisk, digest, range, (n) => (bytes += n));
      return;
    }
    const upstream = await callStorage(ctx.config.backend, {
      method: ctx.method,
      path: `/v2/${store}/blobs/${digest}`,
      access: pullAccess(store),
      headers: range ? { range } : {},
      signal: ctx.signal,
    });
    if (upstream.statusCode >= 400) throw await storageError(upstream, "blob");
    await relay(ctx, upstream, passHeaders(upstream, name, rights.app.id), (n) => (bytes += n));
    return;
  }
  if (ctx.method === "DELETE") {
    const upstream = await callStorage(ctx.config.backend, { method: "DELETE", path: `/v2/${store}/blobs/${digest}`, access: deleteAccess(store), signal: ctx.signal });
    if (upstream.statusCode >= 400) throw await storageError(upstream, "blob");
    await relay(ctx, upstream, passHeaders(upstream, name, rights.app.id));
    return;
  }
  throw new ProxyError(405, "UNSUPPORTED", "Blobs take GET, HEAD or DELETE.", { allow: "GET, HEAD, DELETE" });
}

const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

async function manifest(ctx: Ctx, rights: Rights, route: Extract<HostedRoute, { kind: "manifests" }>): Promise<void> {
  const { name } = route;
  const store = storageName(rights.app.id, name.repository);
  if (ctx.method === "GET" || ctx.method === "HEAD") {
    const digest = route.byDigest ? route.reference : await resolveTag(rights.app.id, name.repository, route.reference);
    if (!digest) throw new ProxyError(404, "MANIFEST_UNKNOWN", `No tag ${route.reference} in ${name.full}.`);
    let bytes = 0;
    logPull(ctx, rights, name, "manifests", route.reference, () => bytes);
    // Every manifest type Gantry stores is acceptable to the client that asked; distribution 2.8
    // refuses an OCI manifest to an Accept that omits it, so it is always given the full list.
    const upstream = await callStorage(ctx.config.backend, {
      method: ctx.method,
      path: `/v2/${store}/manifests/${digest}`,
      access: pullAccess(store),
      headers: { accept: MANIFEST_ACCEPT },
      signal: ctx.signal,
    });
    if (upstream.statusCode === 404) {
      await upstream.body.dump();
      throw new ProxyError(404, "MANIFEST_UNKNOWN", `No manifest ${route.reference.slice(0, 80)} in ${name.full}.`);
    }
    if (upstream.statusCode >= 400) throw await storageError(upstream, "manifest");
    await relay(ctx, upstream, passHeaders(upstream, name, rights.app.id), (n) => (bytes += n));
    return;
  }
  if (ctx.method === "PUT") return putManifest(ctx, rights, route);
  if (ctx.method === "DELETE") {
    if (!route.byDigest) {
      // Tags are Gantry's: deleting one removes that tag only (the OCI spec's tag delete).
      if (!(await deleteTag(rights.app.id, name.repository, route.reference))) throw new ProxyError(404, "MANIFEST_UNKNOWN", `No tag ${route.reference} in ${name.full}.`);
      await logActivity(ctx, rights, "image.tag_deleted", name, route.reference, { tag: route.reference });
      ctx.res.writeHead(202, { ...API_VERSION_HEADER, "content-length": "0" });
      ctx.res.end();
      return;
    }
    const upstream = await callStorage(ctx.config.backend, { method: "DELETE", path: `/v2/${store}/manifests/${route.reference}`, access: deleteAccess(store), signal: ctx.signal });
    if (upstream.statusCode === 404) {
      await upstream.body.dump();
      throw new ProxyError(404, "MANIFEST_UNKNOWN", `No manifest ${route.reference.slice(0, 80)} in ${name.full}.`);
    }
    if (upstream.statusCode >= 400) throw await storageError(upstream, "manifest");
    await forgetManifest(rights.app.id, name.repository, route.reference);
    await logActivity(ctx, rights, "image.manifest_deleted", name, route.reference, { digest: route.reference });
    await relay(ctx, upstream, passHeaders(upstream, name, rights.app.id));
    return;
  }
  throw new ProxyError(405, "UNSUPPORTED", "Manifests take GET, HEAD, PUT or DELETE.", { allow: "GET, HEAD, PUT, DELETE" });
}

async function putManifest(ctx: Ctx, rights: Rights, route: Extract<HostedRoute, { kind: "manifests" }>): Promise<void> {
  if (rights.kind !== "vendor") throw new ProxyError(403, "DENIED", "A license can pull only.");
  const { name } = route;
  const store = storageName(rights.app.id, name.repository);
  const body = await readBody(ctx.req, MANIFEST_MAX_BYTES, "MANIFEST_INVALID", "manifest");
  const contentType = ctx.req.headers["content-type"];
  const parsed = parseManifest(body, contentType);
  if (route.byDigest && parsed.digest !== route.reference) {
    throw new ProxyError(400, "DIGEST_INVALID", `The manifest's digest is ${parsed.digest}, not ${route.reference}.`);
  }
  const upstream = await callStorage(ctx.config.backend, {
    method: "PUT",
    path: `/v2/${store}/manifests/${route.reference}`,
    access: pushAccess(store),
    headers: { "content-type": parsed.mediaType, "content-length": String(body.length) },
    body,
    signal: ctx.signal,
  });
  if (upstream.statusCode >= 400) throw await storageError(upstream, "manifest");
  await upstream.body.dump();
  await recordManifest({ teamId: rights.app.teamId, appId: rights.app.id, repository: name.repository, pushedBy: principalLabel(rights.principal) }, parsed, route.byDigest ? null : route.reference);
  // A tag pushed is the event people look for; manifests pushed by digest (platform images of an index) are not logged one by one.
  if (!route.byDigest) await logActivity(ctx, rights, "image.pushed", name, route.reference, { tag: route.reference, digest: parsed.digest });
  const headers: Record<string, string> = {
    ...API_VERSION_HEADER,
    location: `/v2/${name.full}/manifests/${parsed.digest}`,
    "docker-content-digest": parsed.digest,
    "content-length": "0",
  };
  if (parsed.subject) headers["oci-subject"] = parsed.subject;
  ctx.res.writeHead(201, headers);
  ctx.res.end();
}

// ---------- uploads ----------

/**
 * POST …/blobs/uploads/: a new upload (202 + Location), a monolithic upload
 * (?digest= with the body: 201), or a mount (?mount=&from=): only from the
 * same app (whose repositories the caller may read); a mount from anywhere else
 * is ignored and becomes a normal upload, as the spec allows.
 */
async function startUpload(ctx: Ctx, caller: Caller, rights: Rights, name: HostedName): Promise<void> {
  if (ctx.method !== "POST") throw new ProxyError(405, "UNSUPPORTED", "Start an upload with POST.", { allow: "POST" });
  const store = storageName(rights.app.id, name.repository);
  const query = new URLSearchParams();
  const access = pushAccess(store);
  const digest = ctx.url.searchParams.get("digest");
  const mount = ctx.url.searchParams.get("mount");
  const from = ctx.url.searchParams.get("from");
  if (digest !== null) {
    parseHostedPath(`/v2/${name.full}/blobs/${digest}`); // validates the digest (400 DIGEST_INVALID)
  } else if (mount !== null) {
    parseHostedPath(`/v2/${name.full}/blobs/${mount}`);
    const source = from ? safeName(from) : null;
    if (source && source.appSlug === name.appSlug && canRead(caller, source.full)) {
      const fromStore = storageName(rights.app.id, source.repository);
      query.set("mount", mount);
      query.set("from", fromStore);
      access.push(...pullAccess(fromStore));
    }
  }
  const search = query.size ? `?${query.toString()}` : "";
  const upstream = await callStorage(ctx.config.backend, {
    method: "POST",
    path: `/v2/${store}/blobs/uploads/${search}`,
    access,
    headers: { "content-length": "0" },
    body: null,
    signal: ctx.signal,
  });
  if (upstream.statusCode >= 400) throw await storageError(upstream, "upload");
  await upstream.body.dump();
  const headers = passHeaders(upstream, name, rights.app.id);
  if (upstream.statusCode === 202) {
    const location = upstream.headers.location;
    if (typeof location !== "string") throw internal(new Error("distribution started an upload without a Location"));
    if (digest !== null && Number(ctx.req.headers["content-length"] ?? 0) > 0) {
      // Monolithic POST: distribution 2.8 ignores ?digest= there and drops the body, so Gantry
      // closes the upload it just opened with the body (one PUT): 201, as the spec says.
      answerClosed(ctx, await closeInStorage(ctx, store, location, digest), name, rights.app.id);
      return;
    }
    const id = crypto.randomUUID();
    // A new upload holds nothing yet (distribution's "Range: 0-0" here means 0 bytes, not 1).
    await db.registryUpload.create({ data: { id, appId: rights.app.id, repository: name.repository, location, offset: 0n } });
    headers.location = `/v2/${name.full}/blobs/uploads/${id}`;
    headers["docker-upload-uuid"] = id;
    headers.range = "0-0";
  }
  headers["content-length"] = "0";
  ctx.res.writeHead(upstream.statusCode, headers);
  ctx.res.end();
}

/** Closes distribution's upload at `location` with PUT ?digest= and the request's body (if any); a refusal is thrown. */
async function closeInStorage(ctx: Ctx, store: string, location: string, digest: string): Promise<Dispatcher.ResponseData> {
  const target = new URL(location, "http://storage.invalid");
  target.searchParams.set("digest", digest);
  const length = ctx.req.headers["content-length"];
  const hasBody = length !== undefined && Number(length) > 0;
  const upstream = await callStorage(ctx.config.backend, {
    method: "PUT",
    path: `${target.pathname}${target.search}`,
    access: pushAccess(store),
    headers: hasBody ? { "content-type": "application/octet-stream", "content-length": String(length) } : { "content-length": "0" },
    body: hasBody ? ctx.req : null,
    signal: ctx.signal,
  });
  if (upstream.statusCode >= 400) throw await storageError(upstream, "upload");
  await upstream.body.dump();
  return upstream;
}

/** The client's answer to a completed blob: distribution's 201 with Location and Docker-Content-Digest, in the client's names. */
function answerClosed(ctx: Ctx, upstream: Dispatcher.ResponseData, name: HostedName, appId: string): void {
  const headers = passHeaders(upstream, name, appId);
  headers["content-length"] = "0";
  ctx.res.writeHead(upstream.statusCode, headers);
  ctx.res.end();
}

function safeName(raw: string): HostedName | null {
  try {
    return parseName(raw);
  } catch {
    return null;
  }
}

function canRead(caller: Caller, name: string): boolean {
  return caller.grants === null || Boolean(caller.grants.get(name)?.has("pull"));
}

/** The end of distribution's `Range: 0-<end>` (null when it sent none). "0-0" is 0 or 1 byte: distribution cannot say which. */
function rangeEnd(upstream: Dispatcher.ResponseData): number | null {
  const range = upstream.headers.range;
  const m = typeof range === "string" ? /^0-(\d+)$/.exec(range) : null;
  return m ? Number(m[1]) : null;
}

/** The request body passed on, counting its bytes. */
function counted(req: IncomingMessage): { body: Readable; bytes: () => number } {
  let bytes = 0;
  const body = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  // An aborted client request fails the body distribution is reading, so the PATCH fails too.
  pipelineCallback(req, body, () => {});
  return { body, bytes: () => bytes };
}

const rangeHeader = (offset: bigint) => (offset > 0n ? `0-${offset - 1n}` : "0-0");

async function continueUpload(ctx: Ctx, rights: Rights, name: HostedName, id: string): Promise<void> {
  const upload = await db.registryUpload.findUnique({ where: { id } });
  if (!upload || upload.appId !== rights.app.id || upload.repository !== name.repository) throw new ProxyError(404, "BLOB_UPLOAD_UNKNOWN", "No such upload: start a new one.");
  const store = storageName(rights.app.id, name.repository);
  const own = `/v2/${name.full}/blobs/uploads/${id}`;
  const status = { ...API_VERSION_HEADER, location: own, range: rangeHeader(upload.offset), "docker-upload-uuid": id, "content-length": "0" };

  if (ctx.method === "GET" || ctx.method === "HEAD") {
    ctx.res.writeHead(204, status);
    ctx.res.end();
    return;
  }
  if (ctx.method === "DELETE") {
    const upstream = await callStorage(ctx.config.backend, { method: "DELETE", path: upload.location, access: pushAccess(store), signal: ctx.signal });
    await upstream.body.dump();
    await db.registryUpload.deleteMany({ where: { id } });
    ctx.res.writeHead(204, { ...API_VERSION_HEADER, "content-length": "0" });
    ctx.res.end();
    return;
  }
  if (ctx.method === "PATCH") {
    const contentRange = ctx.req.headers["content-range"];
    const length = ctx.req.headers["content-length"];
    if (contentRange !== undefined) {
      const m = /^(\d+)-(\d+)$/.exec(String(contentRange).trim());
      const start = m ? BigInt(m[1]!) : -1n;
      const end = m ? BigInt(m[2]!) : -1n;
      const lengthOk = length === undefined || BigInt(length) === end - start + 1n;
      if (!m || start !== upload.offset || end < start || !lengthOk) {
        throw new ProxyError(416, "BLOB_UPLOAD_INVALID", `This chunk does not continue the upload: it has ${upload.offset} bytes, so the next chunk starts at ${upload.offset}.`, {
          location: own,
          range: rangeHeader(upload.offset),
          "docker-upload-uuid": id,
        });
      }
    }
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (length !== undefined) headers["content-length"] = String(length);
    if (contentRange !== undefined) headers["content-range"] = String(contentRange);
    const sent = counted(ctx.req);
    const upstream = await callStorage(ctx.config.backend, { method: "PATCH", path: upload.location, access: pushAccess(store), headers, body: sent.body, signal: ctx.signal });
    if (upstream.statusCode >= 400) throw await storageError(upstream, "upload");
    await upstream.body.dump();
    const location = upstream.headers.location;
    // What distribution holds now: its Range when unambiguous, else what Gantry passed on (0-0 is 0 or 1 byte).
    const end = rangeEnd(upstream);
    const total = upload.offset + BigInt(sent.bytes());
    const offset = end !== null && end > 0 ? BigInt(end) + 1n : total;
    if (offset !== total) log.warn("distribution's upload size differs from the bytes Gantry sent", { upload: id, distribution: String(offset), sent: String(total) });
    if (typeof location === "string") {
      const { count } = await db.registryUpload.updateMany({ where: { id, offset: upload.offset }, data: { location, offset } });
      if (count !== 1) throw new ProxyError(409, "BLOB_UPLOAD_INVALID", "Another request changed this upload at the same time: start a new upload.");
    }
    ctx.res.writeHead(202, { ...status, range: rangeHeader(offset) });
    ctx.res.end();
    return;
  }
  if (ctx.method === "PUT") {
    const digest = ctx.url.searchParams.get("digest");
    if (!digest) throw new ProxyError(400, "DIGEST_INVALID", "Close an upload with PUT …?digest=<digest of the whole blob>.");
    parseHostedPath(`/v2/${name.full}/blobs/${digest}`);
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await closeInStorage(ctx, store, upload.location, digest);
    } catch (e) {
      // distribution cancels an upload whose close it refused (wrong digest, size): so does Gantry.
      if (e instanceof ProxyError && e.status >= 400 && e.status < 500) await db.registryUpload.deleteMany({ where: { id } });
      throw e;
    }
    await db.registryUpload.deleteMany({ where: { id } });
    answerClosed(ctx, upstream, name, rights.app.id);
    return;
  }
  throw new ProxyError(405, "UNSUPPORTED", "Uploads take GET, PATCH, PUT or DELETE.", { allow: "GET, PATCH, PUT, DELETE" });
}

export const registryPathNameOf = (host: string | undefined) => (host ? pathNameFor(host) : null);
