import crypto from "node:crypto";
import type { IncomingMessage } from "node:http";
import { pipeline as pipelineCallback, Transform, type Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { db } from "@/lib/db";
import { log } from "@/lib/log";
import { API_VERSION_HEADER, ProxyError } from "@/lib/proxy/errors";
import type { Caller, Rights } from "./access";
import { parseHostedPath, parseName, type HostedName } from "./paths";
import { internal, passHeaders, storageError, type Ctx } from "./request";
import { callStorage, pullAccess, pushAccess, storageName } from "./storage";


/**
 * POST …/blobs/uploads/: a new upload (202 + Location), a monolithic upload
 * (?digest= with the body: 201), or a mount (?mount=&from=): only from the
 * same app (whose repositories the caller may read); a mount from anywhere else
 * is ignored and becomes a normal upload, as the spec allows.
 */
export async function startUpload(ctx: Ctx, caller: Caller, rights: Rights, name: HostedName): Promise<void> {
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

export async function continueUpload(ctx: Ctx, rights: Rights, name: HostedName, id: string): Promise<void> {
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

