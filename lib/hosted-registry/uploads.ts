import crypto from "node:crypto";
import type { Dispatcher } from "undici";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { log } from "@/lib/log";
import { API_VERSION_HEADER, ProxyError } from "@/lib/proxy/errors";
import type { Caller, Rights } from "./access";
import { parseHostedPath, parseName, type HostedName } from "./paths";
import { checkQuota, overQuota, quotaRoom, recordBlob, registryUsage } from "./quota";
import { internal, passHeaders, storageError, type Ctx } from "./request";
import { callStorage, pullAccess, pushAccess, storageName, type StorageCall } from "./storage";
import { checkDeclared, declaredLength, meterBody, type BodyLimits } from "./upload-body";
import { cancelInStorage, checkUploadLimits, dropSession, keepAlive, openUploadSession, principalKey } from "./upload-sessions";

/**
 * POST …/blobs/uploads/: a new upload (202 + Location), a monolithic upload
 * (?digest= with the body: 201), or a mount (?mount=&from=): only from the
 * same app (whose repositories the caller may read); a mount from anywhere else
 * is ignored and becomes a normal upload, as the spec allows.
 *
 * Limits (see quota.ts, upload-sessions.ts, upload-body.ts): a team at its
 * quota starts nothing but mounts (which add nothing it does not hold); a new
 * session needs room under the principal's and the team's session limits; a
 * monolithic body is metered like a PATCH.
 */
export async function startUpload(ctx: Ctx, caller: Caller, rights: Rights, name: HostedName): Promise<void> {
  if (ctx.method !== "POST") throw new ProxyError(405, "UNSUPPORTED", "Start an upload with POST.", { allow: "POST" });
  if (rights.kind !== "vendor") throw new ProxyError(403, "DENIED", "A license can pull only.");
  const { teamId } = rights.app;
  const principal = principalKey(rights.principal);
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
  const monolithic = digest !== null && (declaredLength(ctx.req) ?? 0) > 0;
  let limits: BodyLimits | null = null;
  if (monolithic) {
    limits = await bodyLimits(teamId, 0);
    checkDeclared(ctx.req, limits);
  } else if (!query.has("mount")) {
    await checkQuota(teamId, 0);
    await checkUploadLimits(teamId, principal);
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
  if (upstream.statusCode === 201 && mount !== null) await recordMounted(ctx, teamId, store, mount);
  if (upstream.statusCode === 202) {
    const location = upstream.headers.location;
    if (typeof location !== "string") throw internal(new Error("distribution started an upload without a Location"));
    if (monolithic && digest !== null && limits) {
      // Monolithic POST: distribution 2.8 ignores ?digest= there and drops the body, so Gantry
      // closes the upload it just opened with the body (one PUT): 201, as the spec says.
      let closed: Sent;
      try {
        closed = await closeInStorage(ctx, store, location, digest, teamId, limits);
      } catch (e) {
        await cancelInStorage(ctx.config.backend, rights.app.id, name.repository, location);
        throw e;
      }
      await recordBlob(teamId, digest, closed.bytes);
      answerClosed(ctx, closed.upstream, name, rights.app.id);
      return;
    }
    const id = crypto.randomUUID();
    try {
      await openUploadSession({ id, appId: rights.app.id, teamId, principal, repository: name.repository, location });
    } catch (e) {
      await cancelInStorage(ctx.config.backend, rights.app.id, name.repository, location);
      throw e;
    }
    headers.location = `/v2/${name.full}/blobs/uploads/${id}`;
    headers["docker-upload-uuid"] = id;
    // A new upload holds nothing yet (distribution's "Range: 0-0" here means 0 bytes, not 1).
    headers.range = "0-0";
  }
  headers["content-length"] = "0";
  ctx.res.writeHead(upstream.statusCode, headers);
  ctx.res.end();
}

/** A mounted blob counts for the team like a pushed one (a no-op when it already does): its size from distribution. */
async function recordMounted(ctx: Ctx, teamId: string, store: string, digest: string): Promise<void> {
  const head = await callStorage(ctx.config.backend, { method: "HEAD", path: `/v2/${store}/blobs/${digest}`, access: pullAccess(store), signal: ctx.signal });
  await head.body.dump();
  const size = Number(head.headers["content-length"]);
  if (head.statusCode === 200 && Number.isSafeInteger(size)) await recordBlob(teamId, digest, size);
  else log.warn("a mounted blob's size could not be read; it is not counted", { digest, status: head.statusCode });
}

/** What a body for this upload may still carry, from the team's usage now. */
async function bodyLimits(teamId: string, offset: number): Promise<BodyLimits> {
  if (env().registry.teamQuotaBytes === 0) return { offset, quotaRoom: Infinity, overQuota: () => internal(new Error("no quota to exceed")) };
  const usage = await registryUsage(teamId);
  return { offset, quotaRoom: quotaRoom(usage), overQuota: (adding) => overQuota(usage, adding) };
}

interface Sent {
  upstream: Dispatcher.ResponseData;
  /** Bytes of the request's body passed on to distribution. */
  bytes: number;
  /** Why the body was cut (distribution got and answered what came before). */
  cut: ProxyError | null;
}

/** Sends an upload's body to distribution, metered (upload-body.ts), without a Content-Length: it may be ended short. */
async function sendMetered(ctx: Ctx, teamId: string, limits: BodyLimits, call: Omit<StorageCall, "body" | "teamId" | "signal">): Promise<Sent> {
  const metered = meterBody(ctx.req, limits);
  try {
    const upstream = await callStorage(ctx.config.backend, { ...call, body: metered.body, teamId, signal: ctx.signal });
    return { upstream, bytes: metered.bytes(), cut: metered.cut() };
  } finally {
    metered.stop();
  }
}

/** Closes distribution's upload at `location` with PUT ?digest= and the request's body (if any); a refusal or a cut is thrown. */
async function closeInStorage(ctx: Ctx, store: string, location: string, digest: string, teamId: string, limits: BodyLimits | null): Promise<Sent> {
  const target = new URL(location, "http://storage.invalid");
  target.searchParams.set("digest", digest);
  const length = declaredLength(ctx.req);
  const call = { method: "PUT" as const, path: `${target.pathname}${target.search}`, access: pushAccess(store) };
  const sent =
    length !== null && length > 0 && limits
      ? await sendMetered(ctx, teamId, limits, { ...call, headers: { "content-type": "application/octet-stream" } })
      : { upstream: await callStorage(ctx.config.backend, { ...call, headers: { "content-length": "0" }, body: null, signal: ctx.signal }), bytes: 0, cut: null };
  if (sent.cut) {
    // distribution refused the shorter body's digest (and cancelled the upload), or took it: either way the client hears why it was cut.
    await sent.upstream.body.dump();
    throw sent.cut;
  }
  if (sent.upstream.statusCode >= 400) throw await storageError(sent.upstream, "upload");
  await sent.upstream.body.dump();
  return sent;
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

const rangeHeader = (offset: bigint) => (offset > 0n ? `0-${offset - 1n}` : "0-0");

/** Whether this request may write here: an upload session is the business of those who push (others see none). */
function mayPush(caller: Caller, rights: Rights, name: string): boolean {
  return rights.actions.has("push") && (caller.grants === null || Boolean(caller.grants.get(name)?.has("push")));
}

const unknownUpload = () => new ProxyError(404, "BLOB_UPLOAD_UNKNOWN", "No such upload: start a new one.");

export async function continueUpload(ctx: Ctx, caller: Caller, rights: Rights, name: HostedName, id: string): Promise<void> {
  const upload = await db.registryUpload.findUnique({ where: { id } });
  if (!upload || upload.appId !== rights.app.id || upload.repository !== name.repository) throw unknownUpload();
  const store = storageName(rights.app.id, name.repository);
  const own = `/v2/${name.full}/blobs/uploads/${id}`;
  const status = { ...API_VERSION_HEADER, location: own, range: rangeHeader(upload.offset), "docker-upload-uuid": id, "content-length": "0" };
  const { teamId } = rights.app;

  if (ctx.method === "GET" || ctx.method === "HEAD") {
    // Pull-only callers (members, member-role tokens, licenses, pull-scoped tokens) are told what they are told of an unknown session.
    if (!mayPush(caller, rights, name.full)) throw unknownUpload();
    ctx.res.writeHead(204, status);
    ctx.res.end();
    return;
  }
  if (ctx.method === "DELETE") {
    await dropSession(ctx.config.backend, upload);
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
    // Content-Range was checked here; distribution gets the bytes alone (upload-body.ts).
    const sent = await sendBody(ctx, upload, teamId, { method: "PATCH", path: upload.location, access: pushAccess(store), headers: { "content-type": "application/octet-stream" } });
    const upstream = sent.upstream;
    if (upstream.statusCode >= 400) throw await storageError(upstream, "upload");
    await upstream.body.dump();
    const location = upstream.headers.location;
    // What distribution holds now: its Range when unambiguous, else what Gantry passed on (0-0 is 0 or 1 byte).
    const end = rangeEnd(upstream);
    const total = upload.offset + BigInt(sent.bytes);
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
    let closed: Sent;
    try {
      const hasBody = (declaredLength(ctx.req) ?? 0) > 0;
      const limits = hasBody ? await limitsFor(ctx, upload, teamId) : null;
      const alive = keepAlive(id);
      try {
        closed = await closeInStorage(ctx, store, upload.location, digest, teamId, limits);
      } finally {
        alive();
      }
    } catch (e) {
      // distribution cancels an upload whose close it refused (wrong digest, size): so does Gantry,
      // and Gantry cancels one whose body it cut (over a limit, too slow).
      if (e instanceof ProxyError && e.status >= 400 && e.status < 500 && e.status !== 429) await dropSession(ctx.config.backend, upload);
      throw e;
    }
    await recordBlob(teamId, digest, Number(upload.offset) + closed.bytes);
    await db.registryUpload.deleteMany({ where: { id } });
    answerClosed(ctx, closed.upstream, name, rights.app.id);
    return;
  }
  throw new ProxyError(405, "UNSUPPORTED", "Uploads take GET, PATCH, PUT or DELETE.", { allow: "GET, PATCH, PUT, DELETE" });
}

type Upload = NonNullable<Awaited<ReturnType<typeof db.registryUpload.findUnique>>>;

/** Limits for a body continuing `upload`; a declared length over them is refused (and the session dropped) before anything is read. */
async function limitsFor(ctx: Ctx, upload: Upload, teamId: string): Promise<BodyLimits> {
  const limits = await bodyLimits(teamId, Number(upload.offset));
  checkDeclared(ctx.req, limits);
  return limits;
}

/**
 * A PATCH body, metered, with the session kept alive while it streams. A body
 * over a limit, declared or cut while streaming, ends the session: the blob can
 * never be completed (cancelled with distribution's state after what it got).
 */
async function sendBody(ctx: Ctx, upload: Upload, teamId: string, call: Omit<StorageCall, "body" | "teamId" | "signal">): Promise<Sent> {
  const alive = keepAlive(upload.id);
  try {
    let limits: BodyLimits;
    try {
      limits = await limitsFor(ctx, upload, teamId);
    } catch (e) {
      await dropSession(ctx.config.backend, upload);
      throw e;
    }
    const sent = await sendMetered(ctx, teamId, limits, call);
    if (sent.cut) {
      await sent.upstream.body.dump();
      const location = sent.upstream.statusCode < 300 ? sent.upstream.headers.location : undefined;
      await dropSession(ctx.config.backend, { ...upload, location: typeof location === "string" ? location : upload.location });
      throw sent.cut;
    }
    return sent;
  } finally {
    alive();
  }
}
