import { db } from "@/lib/db";
import { log } from "@/lib/log";
import { parseReference, ReferenceError } from "@/lib/registry-client/reference";
import { INDEX_TYPES } from "./records";
import { readStoredManifest, type StoredManifest } from "./gc-storage";
import { storageName, type StorageBackend } from "./storage";

/**
 * Which manifests of Gantry's registry nothing keeps. Gantry's records
 * (RegistryManifest, RegistryTag) are the inventory; per repository, a manifest
 * is kept when
 *  - a Gantry tag points at it (distribution's own tags are not Gantry's: a tag
 *    deleted in Gantry is still there, so its collector cannot be asked);
 *  - a release of the same team lists it on Gantry's registry (ReleaseImage of
 *    status vendor_registry): by digest in the reference, or the digest recorded
 *    for the image (and the one before the last re-probe); or names it as a
 *    chart (ReleaseChart, the digest at creation). A tag a release names
 *    keeps its manifest as every Gantry tag does;
 *  - it was pushed less than `minAgeMs` ago: the platform manifests of an index
 *    are pushed by digest before the index, sometimes by another job;
 *  - a kept index lists it (read from storage, recursively), or it is a referrer
 *    (OCI subject) of a kept manifest, recursively.
 * When a kept index cannot be read, nothing of that repository is deleted.
 */
export interface Candidate {
  teamId: string;
  appId: string;
  appSlug: string;
  repository: string;
  digest: string;
  /** When it was (last) pushed: deleted only if still so (not pushed again during the run). */
  pushedAt: Date;
}

export interface GcPlan {
  remove: Candidate[];
  kept: number;
  /** Repositories left alone because a kept index could not be read. */
  skippedRepositories: number;
  /** Every kept manifest per storage name ("<app id>/<repository>"), for the dry run's estimate. */
  keptByStore: Map<string, Set<string>>;
  /** Manifests read from storage while planning, by "<store>@<digest>" (null: not in storage). */
  read: Map<string, StoredManifest | null>;
}

const repoKey = (appId: string, repository: string) => `${appId}\u0000${repository}`;

/** Digests releases list on Gantry's registry, per app and repository (only the release's own team's apps). */
async function releaseDigests(): Promise<Map<string, Set<string>>> {
  const rows = await db.releaseImage.findMany({
    where: { status: "vendor_registry" },
    select: { image: true, digest: true, previousDigest: true, release: { select: { teamId: true } } },
  });
  const parsed = rows.flatMap((r) => {
    try {
      const ref = parseReference(r.image);
      const [slug, ...rest] = ref.path.split("/");
      if (!slug || rest.length === 0) return [];
      const digests = [ref.digest, r.digest, r.previousDigest].filter((d): d is string => Boolean(d));
      return digests.length ? [{ slug, repository: rest.join("/"), teamId: r.release.teamId, digests }] : [];
    } catch (e) {
      if (e instanceof ReferenceError) return [];
      throw e;
    }
  });
  const apps = await db.app.findMany({ where: { slug: { in: [...new Set(parsed.map((p) => p.slug))] } }, select: { id: true, slug: true, teamId: true } });
  const bySlug = new Map(apps.map((a) => [a.slug, a]));
  const out = new Map<string, Set<string>>();
  for (const p of parsed) {
    const app = bySlug.get(p.slug);
    if (!app || app.teamId !== p.teamId) continue;
    const key = repoKey(app.id, p.repository);
    const set = out.get(key) ?? new Set<string>();
    for (const d of p.digests) set.add(d);
    out.set(key, set);
  }
  // Charts a release names (ReleaseChart): the digest recorded at creation, in the release's own app.
  for (const c of await db.releaseChart.findMany({ select: { appId: true, repository: true, digest: true } })) {
    const key = repoKey(c.appId, c.repository);
    const set = out.get(key) ?? new Set<string>();
    set.add(c.digest);
    out.set(key, set);
  }
  return out;
}

export async function planUntaggedDeletion(backend: StorageBackend, o: { minAgeMs: number; now?: Date }): Promise<GcPlan> {
  const cutoff = new Date((o.now ?? new Date()).getTime() - o.minAgeMs);
  const released = await releaseDigests();
  const repositories = await db.registryManifest.groupBy({ by: ["appId", "repository"], orderBy: [{ appId: "asc" }, { repository: "asc" }] });
  const plan: GcPlan = { remove: [], kept: 0, skippedRepositories: 0, keptByStore: new Map(), read: new Map() };
  for (const { appId, repository } of repositories) {
    const store = storageName(appId, repository);
    try {
      const { kept, remove, recorded } = await planRepository(backend, plan.read, { appId, repository, store }, released.get(repoKey(appId, repository)), cutoff);
      plan.keptByStore.set(store, kept);
      plan.kept += recorded - remove.length;
      plan.remove.push(...remove);
    } catch (e) {
      // When in doubt, keep: an index that could not be read may list any of them.
      plan.skippedRepositories++;
      log.error("garbage collection: repository left alone", { store, error: e instanceof Error ? e.message : String(e) });
      plan.keptByStore.set(store, new Set((await db.registryManifest.findMany({ where: { appId, repository }, select: { digest: true } })).map((m) => m.digest)));
    }
  }
  return plan;
}

async function planRepository(
  backend: StorageBackend,
  read: GcPlan["read"],
  where: { appId: string; repository: string; store: string },
  releaseKeeps: Set<string> | undefined,
  cutoff: Date,
): Promise<{ kept: Set<string>; remove: Candidate[]; recorded: number }> {
  const { appId, repository, store } = where;
  const [manifests, tags] = await Promise.all([
    db.registryManifest.findMany({
      where: { appId, repository },
      select: { teamId: true, digest: true, mediaType: true, subject: true, pushedAt: true, app: { select: { slug: true } } },
    }),
    db.registryTag.findMany({ where: { appId, repository }, select: { digest: true } }),
  ]);
  const byDigest = new Map(manifests.map((m) => [m.digest, m]));
  const referrers = new Map<string, string[]>();
  for (const m of manifests) {
    if (!m.subject) continue;
    const list = referrers.get(m.subject);
    if (list) list.push(m.digest);
    else referrers.set(m.subject, [m.digest]);
  }
  const kept = new Set<string>();
  const queue: string[] = [];
  const keep = (digest: string) => {
    if (kept.has(digest)) return;
    kept.add(digest);
    queue.push(digest);
  };
  for (const t of tags) keep(t.digest);
  for (const d of releaseKeeps ?? []) keep(d);
  for (const m of manifests) if (m.pushedAt > cutoff) keep(m.digest);
  while (queue.length > 0) {
    const digest = queue.pop()!;
    for (const r of referrers.get(digest) ?? []) keep(r);
    const record = byDigest.get(digest);
    // An index lists manifests; a digest Gantry has no record of (a release's, a child's) is asked too.
    if (record && !INDEX_TYPES.has(record.mediaType)) continue;
    const key = `${store}@${digest}`;
    if (!read.has(key)) read.set(key, await readStoredManifest(backend, store, digest));
    for (const child of read.get(key)?.children ?? []) keep(child);
  }
  const remove = manifests
    .filter((m) => !kept.has(m.digest))
    .map((m) => ({ teamId: m.teamId, appId, appSlug: m.app.slug, repository, digest: m.digest, pushedAt: m.pushedAt }));
  return { kept, remove, recorded: manifests.length };
}
