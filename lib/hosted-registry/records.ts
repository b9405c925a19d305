import crypto from "node:crypto";
import { db } from "@/lib/db";
import { ProxyError } from "@/lib/proxy/errors";

/**
 * What Gantry records of its own registry, in its database: every manifest
 * pushed (size, media type, OCI 1.1 subject / artifactType for the referrers
 * API, who pushed it and when) and the tags. Tags live here, not in
 * distribution's storage: a tag resolves to a digest through this table, so a
 * tag can be deleted on its own (distribution 2.8 cannot), the tag list is
 * sorted and paginated as the OCI spec says, and every replica sees one truth.
 */
export const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;

export const INDEX_TYPES = new Set(["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]);
export const MANIFEST_TYPES = new Set([
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  ...INDEX_TYPES,
]);

interface Descriptor {
  mediaType?: unknown;
  digest?: unknown;
  size?: unknown;
  artifactType?: unknown;
  annotations?: unknown;
}

export interface ParsedManifest {
  digest: string;
  mediaType: string;
  size: number;
  /** config + layers (image), or the listed manifests' digests (index). */
  blobBytes: number;
  children: string[];
  subject: string | null;
  artifactType: string | null;
  annotations: Record<string, string> | null;
  /** An image manifest's config and layers (empty for an index). */
  config: { mediaType: string | null; digest: string; size: number } | null;
  layers: { mediaType: string | null; digest: string; size: number }[];
}

const invalid = (message: string) => new ProxyError(400, "MANIFEST_INVALID", message);

function size(d: Descriptor, what: string): number {
  if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0) throw invalid(`${what}: size must be a non-negative integer.`);
  return d.size;
}

function digestOf(d: Descriptor, what: string): string {
  if (typeof d.digest !== "string" || !/^sha(256:[a-f0-9]{64}|512:[a-f0-9]{128})$/.test(d.digest)) throw invalid(`${what}: invalid digest.`);
  return d.digest;
}

function annotationsOf(v: unknown): Record<string, string> | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "object" || Array.isArray(v)) throw invalid("annotations must be an object of strings.");
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== "string") throw invalid("annotations must be an object of strings.");
    out[k] = val;
  }
  return out;
}

/** Parses and checks a pushed manifest (the body as it will be stored). */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
  } catch {
    throw invalid("The manifest is not JSON.");
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) throw invalid("The manifest is not a JSON object.");
  const declared = typeof json.mediaType === "string" ? json.mediaType : undefined;
  const header = contentType?.split(";")[0]?.trim();
  const mediaType = declared ?? header ?? "";
  if (!MANIFEST_TYPES.has(mediaType)) throw invalid(`Unsupported manifest media type "${mediaType.slice(0, 100)}".`);
  if (declared && header && header !== declared) throw invalid(`Content-Type ${header.slice(0, 100)} does not match the manifest's mediaType ${declared}.`);
  if (json.schemaVersion !== 2) throw invalid("schemaVersion must be 2.");
  const subject = json.subject === undefined ? null : digestOf(json.subject as Descriptor, "subject");
  const artifactType = typeof json.artifactType === "string" ? json.artifactType : null;
  const annotations = annotationsOf(json.annotations);
  const digest = `sha256:${crypto.createHash("sha256").update(body).digest("hex")}`;
  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(json.manifests)) throw invalid("An index lists its manifests.");
    const children = (json.manifests as Descriptor[]).map((d, i) => {
      size(d, `manifests[${i}]`);
      return digestOf(d, `manifests[${i}]`);
    });
    return { digest, mediaType, size: body.length, blobBytes: 0, children, subject, artifactType, annotations, config: null, layers: [] };
  }
  const config = json.config as Descriptor | undefined;
  if (!config || typeof config !== "object") throw invalid("An image manifest has a config.");
  if (!Array.isArray(json.layers)) throw invalid("An image manifest lists its layers.");
  const typeOf = (d: Descriptor) => (typeof d.mediaType === "string" ? d.mediaType : null);
  const configRef = { mediaType: typeOf(config), size: size(config, "config"), digest: digestOf(config, "config") };
  let blobBytes = configRef.size;
  const layers = (json.layers as Descriptor[]).map((d, i) => {
    const layer = { mediaType: typeOf(d), size: size(d, `layers[${i}]`), digest: digestOf(d, `layers[${i}]`) };
    blobBytes += layer.size;
    return layer;
  });
  const type = artifactType ?? configRef.mediaType;
  return { digest, mediaType, size: body.length, blobBytes, children: [], subject, artifactType: type, annotations, config: configRef, layers };
}

export interface PushContext {
  teamId: string;
  appId: string;
  repository: string;
  pushedBy: string;
}

/** Records a manifest distribution accepted, and the tag it was pushed as (if any). */
export async function recordManifest(ctx: PushContext, m: ParsedManifest, tag: string | null, chart: string | null = null): Promise<void> {
  let total = BigInt(m.size + m.blobBytes);
  if (m.children.length) {
    const known = await db.registryManifest.findMany({
      where: { appId: ctx.appId, repository: ctx.repository, digest: { in: m.children } },
      select: { totalSize: true },
    });
    for (const k of known) total += k.totalSize;
  }
  const data = {
    mediaType: m.mediaType,
    size: m.size,
    totalSize: total,
    subject: m.subject,
    artifactType: m.artifactType,
    annotations: m.annotations ? JSON.stringify(m.annotations) : null,
    chart,
    pushedBy: ctx.pushedBy,
  };
  await db.registryManifest.upsert({
    where: { appId_repository_digest: { appId: ctx.appId, repository: ctx.repository, digest: m.digest } },
    create: { teamId: ctx.teamId, appId: ctx.appId, repository: ctx.repository, digest: m.digest, ...data },
    update: { ...data, pushedAt: new Date() },
  });
  if (tag !== null) {
    await db.registryTag.upsert({
      where: { appId_repository_tag: { appId: ctx.appId, repository: ctx.repository, tag } },
      create: { teamId: ctx.teamId, appId: ctx.appId, repository: ctx.repository, tag, digest: m.digest, pushedBy: ctx.pushedBy },
      update: { digest: m.digest, pushedBy: ctx.pushedBy, pushedAt: new Date() },
    });
  }
}

/** The digest a tag points at, or null. */
export async function resolveTag(appId: string, repository: string, tag: string): Promise<string | null> {
  const row = await db.registryTag.findUnique({ where: { appId_repository_tag: { appId, repository, tag } }, select: { digest: true } });
  return row?.digest ?? null;
}

/** What a repository's tags point at now (a pinned license's by-digest check). */
export async function tagDigests(appId: string, repository: string, tags: string[]): Promise<{ tag: string; digest: string }[]> {
  return db.registryTag.findMany({ where: { appId, repository, tag: { in: tags } }, select: { tag: true, digest: true } });
}

/** Removes a tag; false when there was none. */
export async function deleteTag(appId: string, repository: string, tag: string): Promise<boolean> {
  const { count } = await db.registryTag.deleteMany({ where: { appId, repository, tag } });
  return count > 0;
}

/** After distribution deleted a manifest: its record and every tag that pointed at it go too. */
export async function forgetManifest(appId: string, repository: string, digest: string): Promise<void> {
  await db.$transaction([
    db.registryTag.deleteMany({ where: { appId, repository, digest } }),
    db.registryManifest.deleteMany({ where: { appId, repository, digest } }),
  ]);
}

/** Whether a repository has anything: a tag or a manifest. */
export async function repositoryExists(appId: string, repository: string): Promise<boolean> {
  const m = await db.registryManifest.findFirst({ where: { appId, repository }, select: { id: true } });
  return m !== null;
}

/** Most tags a tag list reads (sorted in code: byte order on every database, whatever its collation). */
export const TAG_LIST_MAX = 100_000;

/**
 * tags/list as the OCI spec says: lexical order; `n` (0 ⇒ empty list) and
 * `last` (exclusive); a Link to the next page when the list was cut at n.
 */
export async function listTags(appId: string, repository: string, opts: { n: number | null; last: string | null; only?: ReadonlySet<string> | null }) {
  const rows = await db.registryTag.findMany({ where: { appId, repository }, select: { tag: true }, take: TAG_LIST_MAX });
  // `only`: the tags a pinned license may see, filtered before paging so pages stay full.
  const all = rows.map((r) => r.tag).filter((t) => !opts.only || opts.only.has(t)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const after = opts.last === null ? all : all.filter((t) => t > opts.last!);
  if (opts.n === null) return { tags: after, more: false };
  return { tags: after.slice(0, opts.n), more: opts.n > 0 && after.length > opts.n };
}

/** The referrers of a digest (OCI 1.1): manifests in the repository whose subject it is. */
export async function listReferrers(appId: string, repository: string, subject: string, artifactType: string | null) {
  const rows = await db.registryManifest.findMany({
    where: { appId, repository, subject, ...(artifactType !== null ? { artifactType } : {}) },
    orderBy: [{ pushedAt: "asc" }, { digest: "asc" }],
    take: 1000,
    select: { digest: true, mediaType: true, size: true, artifactType: true, annotations: true },
  });
  return rows.map((r) => ({
    mediaType: r.mediaType,
    digest: r.digest,
    size: r.size,
    ...(r.artifactType ? { artifactType: r.artifactType } : {}),
    ...(r.annotations ? { annotations: JSON.parse(r.annotations) as Record<string, string> } : {}),
  }));
}
