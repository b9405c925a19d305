import { CHART_CONFIG_MAX_BYTES, chartFieldsOf, isChartType } from "@/lib/charts/pushed-charts";
import { API_VERSION_HEADER, ProxyError } from "@/lib/proxy/errors";
import { hostedTagKey, noteChildren, noteTag } from "@/lib/releases/pinned-digests";
import { principalLabel, type Rights } from "./access";
import { readBody } from "./body";
import type { HostedRoute } from "./paths";
import { checkManifestQuota, recordBlob } from "./quota";
import { refuseWhileReadOnly } from "./read-only";
import { deleteTag, forgetManifest, MANIFEST_MAX_BYTES, parseManifest, recordManifest, resolveTag, type ParsedManifest } from "./records";
import { logActivity, logPull, passHeaders, relay, storageError, type Ctx } from "./request";
import { serveLicenseChart } from "./charts";
import { readStoredBlob } from "./stored-blob";
import { callStorage, deleteAccess, pullAccess, pushAccess, storageName } from "./storage";

/** Manifests: GET/HEAD (tags resolved in Gantry's database), PUT (parsed, recorded) and DELETE (a tag alone, or a manifest by digest). */
const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export async function manifest(ctx: Ctx, rights: Rights, route: Extract<HostedRoute, { kind: "manifests" }>): Promise<void> {
  const { name } = route;
  const store = storageName(rights.app.id, name.repository);
  if (ctx.method === "GET" || ctx.method === "HEAD") {
    const digest = route.byDigest ? route.reference : await resolveTag(rights.app.id, name.repository, route.reference);
    if (!digest) throw new ProxyError(404, "MANIFEST_UNKNOWN", `No tag ${route.reference} in ${name.full}.`);
    // What the tag is now: a pinned license's by-digest follow-up is checked against it in memory.
    if (!route.byDigest) noteTag(hostedTagKey(rights.app.id, name.repository), route.reference, digest);
    // A license pulling a Helm chart receives its own variant (charts.ts); vendors get the chart as pushed.
    if (rights.kind === "license" && (await serveLicenseChart(ctx, rights, name, route.reference, digest))) return;
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
  // The body may have taken up to 30 s: a collection that turned writes off meanwhile must not see this push land.
  await refuseWhileReadOnly();
  if (route.byDigest && parsed.digest !== route.reference) {
    throw new ProxyError(400, "DIGEST_INVALID", `The manifest's digest is ${parsed.digest}, not ${route.reference}.`);
  }
  await checkManifestQuota(rights.app.teamId, parsed.digest, body.length);
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
  await recordBlob(rights.app.teamId, parsed.digest, body.length);
  const chart = await chartFields(ctx, store, parsed);
  await recordManifest({ teamId: rights.app.teamId, appId: rights.app.id, repository: name.repository, pushedBy: principalLabel(rights.principal) }, parsed, route.byDigest ? null : route.reference, chart);
  noteChildren(parsed.digest, parsed.children);
  if (!route.byDigest) noteTag(hostedTagKey(rights.app.id, name.repository), route.reference, parsed.digest);
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


/** A pushed chart's Chart.yaml fields, read from its config blob (null: not a chart, or a config that is not Helm's). */
async function chartFields(ctx: Ctx, store: string, parsed: ParsedManifest): Promise<string | null> {
  if (!isChartType(parsed.artifactType) || !parsed.config) return null;
  const config = await readStoredBlob(ctx.config, store, parsed.config.digest, CHART_CONFIG_MAX_BYTES, ctx.signal).catch(() => null);
  const fields = config ? chartFieldsOf(config, parsed.layers.map((l) => l.mediaType)) : null;
  return fields ? JSON.stringify(fields) : null;
}
