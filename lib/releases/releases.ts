import "server-only";
import { db, type Tx } from "@/lib/db";
import { AppError, notFound } from "@/lib/errors";
import { recordActivity } from "@/lib/activity/record";
import { resolveReleaseCharts, storeReleaseCharts } from "./charts";
import { withPrivateDigests } from "./digests";
import { invalidateScope } from "./scope";
import { getApp } from "@/lib/apps/apps";
import { appDomains } from "@/lib/domains/app-domains";
import { parseReference } from "@/lib/registry-client/reference";
import { pathNameFor } from "@/lib/registries/endpoint";
import type { GeneratedFiles } from "@/lib/rewrite/generate";
import { extractAll, installerFiles, manifestFiles, occurrencesOf, probeAll } from "@/lib/rewrite/preview";
import { IMAGE_STATUSES, type ImageStatus, type ProbeResult } from "@/lib/rewrite/probe";
import type { TeamContext } from "@/lib/teams/access";
import { createReleaseSchema, parseFiles, parseImageList, parseManifests, parseOccurrences, parseStrings, type CreateReleaseInput } from "./schema";
import { isValidVersion, newestFirst } from "./version";
import { isUniqueViolation } from "@/lib/transactions";
import { FILE_PATHS } from "@/lib/rewrite/file-paths";

export { createReleaseSchema } from "./schema";

/** Where each generated file goes in the installer (the kustomize overlay and the Helm values). */
export { FILE_PATHS };

export const filesWithPaths = (files: GeneratedFiles) => (Object.keys(FILE_PATHS) as (keyof GeneratedFiles)[]).map((name) => ({ path: FILE_PATHS[name], content: files[name] }));

const RELEASE_FIELDS = {
  id: true,
  version: true,
  notes: true,
  createdAt: true,
  createdByLabel: true,
  archivedAt: true,
  lastProbedAt: true,
  appId: true,
  proxyHost: true,
  registryHost: true,
  platforms: true,
  airgapPublic: true,
} as const;

const IMAGE_FIELDS = {
  image: true,
  normalized: true,
  status: true,
  reason: true,
  warning: true,
  digest: true,
  rewritten: true,
  upstreamRepository: true,
  occurrences: true,
  previousStatus: true,
  previousDigest: true,
} as const;

type ReleaseRow = { id: string; version: string; notes: string; createdAt: Date; createdByLabel: string; archivedAt: Date | null; lastProbedAt: Date; proxyHost: string; registryHost: string | null; platforms: string; airgapPublic: boolean };

function countsOf(statuses: string[]): Record<ImageStatus, number> {
  const counts = Object.fromEntries(IMAGE_STATUSES.map((s) => [s, 0])) as Record<ImageStatus, number>;
  for (const s of statuses) if ((IMAGE_STATUSES as readonly string[]).includes(s)) counts[s as ImageStatus]++;
  return counts;
}

function summaryOf(r: ReleaseRow, statuses: string[]) {
  return {
    id: r.id,
    version: r.version,
    notes: r.notes,
    createdAt: r.createdAt,
    createdByLabel: r.createdByLabel,
    archivedAt: r.archivedAt,
    lastProbedAt: r.lastProbedAt,
    /** The hosts its stored files and rewritten names were generated with ("" before custom domains). */
    proxyHost: r.proxyHost,
    registryHost: r.registryHost,
    /** The platforms an air-gap bundle carries of multi-arch images; empty: every platform. */
    platforms: parseStrings(r.platforms),
    /** Whether its air-gap bundles carry its public images. */
    airgapPublic: r.airgapPublic,
    counts: countsOf(statuses),
    imageCount: statuses.length,
  };
}

export type ReleaseSummary = ReturnType<typeof summaryOf>;

async function appId(teamId: string, appSlug: string) {
  return (await getApp(teamId, appSlug)).id;
}

/** A version from a URL or a form: an invalid label cannot name a release, so it is NOT_FOUND. */
function assertVersion(version: string) {
  if (!isValidVersion(version)) throw notFound("Release");
}

async function loadDetail(client: typeof db | Tx, teamId: string, app: string, version: string) {
  assertVersion(version);
  const r = await client.release.findFirst({
    where: { teamId, appId: app, version },
    select: {
      ...RELEASE_FIELDS,
      manifests: true,
      imageList: true,
      files: true,
      images: { select: IMAGE_FIELDS, orderBy: { image: "asc" } },
      charts: { select: { reference: true, repository: true, tag: true, digest: true, name: true, appVersion: true, description: true }, orderBy: { reference: "asc" } },
    },
  });
  if (!r) throw notFound("Release");
  return {
    ...summaryOf(r, r.images.map((i) => i.status)),
    images: r.images.map((i) => ({ ...i, status: i.status as ImageStatus, occurrences: parseOccurrences(i.occurrences) })),
    manifests: parseManifests(r.manifests),
    imageList: parseImageList(r.imageList),
    files: parseFiles(r.files),
    charts: r.charts,
  };
}

export type ReleaseDetail = Awaited<ReturnType<typeof loadDetail>>;
export type ReleaseImageDetail = ReleaseDetail["images"][number];

/**
 * "<registry path name>/<repository>" of an image a license pulls through Gantry:
 * a rewritten image (what the proxy matches under proxy/<app>/), or an image on
 * Gantry's own registry ("registry.example.com/<app>/<image>", what the registry
 * matches). Null for images that stay public.
 */
function upstreamRepositoryOf(r: Pick<ProbeResult, "image" | "rewritten" | "registry" | "status">): string | null {
  if (!r.rewritten && r.status !== "vendor_registry") return null;
  const ref = parseReference(r.image);
  return `${r.registry?.pathName ?? pathNameFor(ref.domain)}/${ref.path}`;
}

const conflict = (version: string) => new AppError("CONFLICT", `Version ${version} already exists: a release is immutable, so give the change a new version.`, { fields: { version: [`Version ${version} already exists.`] } });

/**
 * Creates a release: extracts the images (off-thread), probes each distinct one
 * like the preview, and stores the manifests as uploaded, the image table and
 * the installer files (with a placeholder license) with an activity event.
 * Callers check "app:manage". A taken version is a CONFLICT, also when two
 * creates race.
 */
export async function createRelease(ctx: TeamContext, appSlug: string, input: CreateReleaseInput, options: { signal?: AbortSignal } = {}): Promise<ReleaseDetail> {
  const data = createReleaseSchema.parse(input);
  const app = await getApp(ctx.team.id, appSlug);
  // Fail fast before probing; the unique index decides races.
  if (await db.release.findFirst({ where: { appId: app.id, version: data.version }, select: { id: true } })) throw conflict(data.version);

  const manifests = manifestFiles(data);
  const imageList = data.images ?? [];
  const { occurrences, workloads } = await extractAll(manifests, imageList, options.signal);
  const domains = await appDomains(ctx.team.id, app.id);
  const charts = await resolveReleaseCharts(ctx.team.id, app, data.charts ?? [], domains);
  const results = await withPrivateDigests(ctx.team.id, await probeAll(ctx.team.id, app.slug, occurrences, { domains, signal: options.signal }), options.signal);
  const files = installerFiles(app, domains, { licenseId: undefined, occurrences, workloads, results });

  try {
    await db.$transaction(async (tx) => {
      const release = await tx.release.create({
        data: {
          teamId: ctx.team.id,
          appId: app.id,
          version: data.version,
          notes: data.notes ?? "",
          manifests: JSON.stringify(manifests),
          imageList: JSON.stringify(imageList),
          files: JSON.stringify(filesWithPaths(files)),
          proxyHost: domains.proxy.host,
          registryHost: domains.registry?.host ?? null,
          platforms: JSON.stringify([...new Set(data.platforms ?? [])].sort()),
          airgapPublic: data.airgapPublic ?? true,
          createdById: ctx.actor.id ?? null,
          createdByLabel: ctx.actor.label,
          images: {
            create: results.map((r) => ({
              appId: app.id,
              image: r.image,
              normalized: r.normalized,
              status: r.status,
              reason: r.reason,
              warning: r.warning ?? null,
              digest: r.digest ?? null,
              rewritten: r.rewritten,
              upstreamRepository: upstreamRepositoryOf(r),
              occurrences: JSON.stringify(occurrencesOf(occurrences, r.image)),
            })),
          },
        },
        select: { id: true },
      });
      await storeReleaseCharts(tx, release.id, app.id, charts);
      await recordActivity(tx, {
        teamId: ctx.team.id,
        actor: ctx.actor,
        action: "release.created",
        resourceType: "release",
        resourceId: release.id,
        metadata: { app: app.slug, version: data.version, images: results.length, proxied: results.filter((r) => r.rewritten).length, charts: charts.length },
        ip: ctx.ip,
      });
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(data.version);
    throw e;
  }
  invalidateScope(app.id); // this instance sees the new images at once; others within 1 s
  return loadDetail(db, ctx.team.id, app.id, data.version);
}

/** An app's releases, highest semver first, then non-semver labels (newestFirst); archived ones only when asked. */
export async function listReleases(teamId: string, appSlug: string, opts: { includeArchived?: boolean } = {}): Promise<ReleaseSummary[]> {
  const app = await appId(teamId, appSlug);
  const rows = await db.release.findMany({
    where: { teamId, appId: app, ...(opts.includeArchived ? {} : { archivedAt: null }) },
    select: { ...RELEASE_FIELDS, images: { select: { status: true } } },
  });
  return rows.sort((a, b) => newestFirst(a.version, b.version)).map((r) => summaryOf(r, r.images.map((i) => i.status)));
}

/** One release with its image table, manifests, image list and placeholder installer files. */
export async function getRelease(teamId: string, appSlug: string, version: string): Promise<ReleaseDetail> {
  return loadDetail(db, teamId, await appId(teamId, appSlug), version);
}

/** The first release of the list (newestFirst), preferring non-archived ones (to prefill "New release"); null without releases. */
export async function latestRelease(teamId: string, appSlug: string): Promise<ReleaseDetail | null> {
  const app = await appId(teamId, appSlug);
  const rows = await db.release.findMany({ where: { teamId, appId: app }, select: { version: true, archivedAt: true } });
  const best = rows.sort((a, b) => Number(a.archivedAt !== null) - Number(b.archivedAt !== null) || newestFirst(a.version, b.version))[0];
  return best ? loadDetail(db, teamId, app, best.version) : null;
}

async function setArchived(ctx: TeamContext, appSlug: string, version: string, archive: boolean): Promise<ReleaseDetail> {
  const app = await getApp(ctx.team.id, appSlug);
  const current = await loadDetail(db, ctx.team.id, app.id, version);
  const detail = await db.$transaction(async (tx) => {
    // Conditional on the current state: of two concurrent calls only one changes it and logs.
    const { count } = await tx.release.updateMany({
      where: { id: current.id, archivedAt: archive ? null : { not: null } },
      data: { archivedAt: archive ? new Date() : null },
    });
    if (count === 1) {
      await recordActivity(tx, {
        teamId: ctx.team.id,
        actor: ctx.actor,
        action: archive ? "release.archived" : "release.unarchived",
        resourceType: "release",
        resourceId: current.id,
        metadata: { app: app.slug, version },
        ip: ctx.ip,
      });
    }
    return loadDetail(tx, ctx.team.id, app.id, version);
  });
  invalidateScope(app.id); // the proxy on this instance sees it at once; other instances within 1 s
  return detail;
}

/** Archives a release: its images leave what the app's licenses can pull. Already archived: unchanged. */
export const archiveRelease = (ctx: TeamContext, appSlug: string, version: string) => setArchived(ctx, appSlug, version, true);

/** Unarchives a release. Not archived: unchanged. */
export const unarchiveRelease = (ctx: TeamContext, appSlug: string, version: string) => setArchived(ctx, appSlug, version, false);

export interface ProbeChange {
  image: string;
  from: { status: string; digest: string | null };
  to: { status: string; digest: string | null };
}

/**
 * Probes a release's images again and records what the registries answer now
 * (status, reason, warning, digest), keeping the previous status and digest.
 * The manifests, files and rewritten names stay as created (with the domains
 * of that day): a release is immutable, and the proxy keeps allowing what was
 * shipped. The probe itself uses the app's current domains.
 */
export async function reprobeRelease(ctx: TeamContext, appSlug: string, version: string, options: { signal?: AbortSignal } = {}): Promise<{ release: ReleaseDetail; changes: ProbeChange[]; probedWith: { proxy: string; registry: string | null } }> {
  const app = await getApp(ctx.team.id, appSlug);
  const current = await loadDetail(db, ctx.team.id, app.id, version);
  const domains = await appDomains(ctx.team.id, app.id);
  const results = await withPrivateDigests(ctx.team.id, await probeAll(ctx.team.id, app.slug, current.images, { domains, signal: options.signal }), options.signal);
  const byImage = new Map(results.map((r) => [r.image, r]));
  const changes: ProbeChange[] = [];
  const release = await db.$transaction(async (tx) => {
    for (const before of current.images) {
      const r = byImage.get(before.image);
      if (!r) continue;
      const digest = r.digest ?? null;
      if (r.status !== before.status || digest !== before.digest) changes.push({ image: before.image, from: { status: before.status, digest: before.digest }, to: { status: r.status, digest } });
      await tx.releaseImage.update({
        where: { releaseId_image: { releaseId: current.id, image: before.image } },
        data: { status: r.status, reason: r.reason, warning: r.warning ?? null, digest, previousStatus: before.status, previousDigest: before.digest },
      });
    }
    await tx.release.update({ where: { id: current.id }, data: { lastProbedAt: new Date() } });
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "release.reprobed",
      resourceType: "release",
      resourceId: current.id,
      metadata: { app: app.slug, version, changes: changes.length },
      ip: ctx.ip,
    });
    return loadDetail(tx, ctx.team.id, app.id, version);
  });
  return { release, changes, probedWith: { proxy: domains.proxy.host, registry: domains.registry?.host ?? null } };
}

/** For the installer: the stored release row by app id (already team-checked by the caller). */
export const releaseForInstaller = (teamId: string, app: string, version: string) => loadDetail(db, teamId, app, version);
