import { ProxyError } from "@/lib/proxy/errors";
import type { Rights } from "./access";
import { serveLicenseChartBlob } from "./charts";
import { openLinkedBlob, sendDiskBlob } from "./disk-blobs";
import type { HostedName } from "./paths";
import { logPull, passHeaders, relay, storageError, type Ctx } from "./request";
import { callStorage, deleteAccess, pullAccess, storageName } from "./storage";

/** GET/HEAD of a blob (from the embedded storage's files, or relayed from a backend), and DELETE. */
export async function blob(ctx: Ctx, rights: Rights, name: HostedName, digest: string): Promise<void> {
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
    if (upstream.statusCode === 404 && rights.kind === "license") {
      // Not stored: it may be the archive of this license's variant of a chart (charts.ts), built on demand.
      const notStored = await storageError(upstream, "blob");
      if (await serveLicenseChartBlob(ctx, rights, name, digest, (n) => (bytes += n))) return;
      throw notStored;
    }
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
