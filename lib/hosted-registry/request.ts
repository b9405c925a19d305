import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import type { Dispatcher } from "undici";
import { recordActivity, type Actor } from "@/lib/activity/record";
import { db } from "@/lib/db";
import { log } from "@/lib/log";
import { API_VERSION_HEADER, ProxyError } from "@/lib/proxy/errors";
import { recordPull } from "@/lib/proxy/pull-log";
import type { Rights } from "./access";
import type { HostedName } from "./paths";
import { storageName, type StorageBackend } from "./storage";

/**
 * One request to Gantry's own registry, as the resource handlers (tags.ts,
 * referrers.ts, manifests.ts, blobs.ts, uploads.ts) see it, and what they share:
 * JSON answers, distribution's headers and errors in the client's names,
 * relaying a body, the customer pull log and the team's activity log.
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
  /** A directory on the embedded storage's volume, for the free-space floor (disk-floor.ts). Null for a backend. */
  volumeDir: string | null;
}

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  url: URL;
  clientIp: string | null;
  config: HostedRegistryConfig;
  signal: AbortSignal;
}

export const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, head = false) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...API_VERSION_HEADER, "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(head ? undefined : text);
};

export function internal(e: unknown): ProxyError {
  log.error("registry request failed", { error: e instanceof Error ? e.message : String(e) });
  return new ProxyError(500, "UNAVAILABLE", "The registry could not handle this request. Try again; if it persists, tell the registry's operator.");
}

/** The customer pull log (licenses only), as at the proxy. */
export function logPull(ctx: Ctx, rights: Rights, name: HostedName, kind: "manifests" | "blobs" | "tags", reference: string, bytes: () => number): void {
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
export async function logActivity(ctx: Ctx, rights: Rights, action: "image.pushed" | "image.tag_deleted" | "image.manifest_deleted", name: HostedName, reference: string, metadata: Record<string, string>): Promise<void> {
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


/** Response headers from distribution worth passing on (hop-by-hop and auth headers are not). */
const PASSED = ["content-type", "content-length", "docker-content-digest", "etag", "content-range", "accept-ranges", "range", "docker-upload-uuid", "oci-subject", "last-modified"];

export function passHeaders(upstream: Dispatcher.ResponseData, name: HostedName, appId: string): Record<string, string> {
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
export async function storageError(upstream: Dispatcher.ResponseData, what: string): Promise<ProxyError> {
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

export async function relay(ctx: Ctx, upstream: Dispatcher.ResponseData, headers: Record<string, string>, onBytes?: (n: number) => void): Promise<void> {
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

