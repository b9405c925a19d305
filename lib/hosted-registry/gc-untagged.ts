import { recordActivity } from "@/lib/activity/record";
import { db } from "@/lib/db";
import { log } from "@/lib/log";
import type { Candidate, GcPlan } from "./gc-plan";
import { readStoredManifest, type BlobRef } from "./gc-storage";
import { forgetManifest } from "./records";
import { callStorage, deleteAccess, storageName, type StorageBackend } from "./storage";

/**
 * The two ends of `registry gc --delete-untagged` after planning (gc-plan.ts):
 * deleting the manifests nothing keeps, by digest in distribution (as a vendor's
 * DELETE does), so its collector frees their blobs; or, for a dry run, counting
 * what that would free without touching anything.
 */
const CONCURRENCY = 8;

async function eachLimited<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

export interface DeleteOutcome {
  /** Deleted in distribution, and forgotten in Gantry's records. */
  deleted: number;
  /** Records of manifests the storage does not have (another storage's, or lost): left as they are. */
  missing: number;
  /** Tagged or pushed again since planning (a push that was under way when writes turned off): kept. */
  spared: number;
  failed: number;
}

const GC_ACTOR = { type: "system", label: "garbage collection" } as const;

export async function deleteUntagged(backend: StorageBackend, remove: Candidate[]): Promise<DeleteOutcome> {
  const out: DeleteOutcome = { deleted: 0, missing: 0, spared: 0, failed: 0 };
  await eachLimited(remove, async (m) => {
    const { appId, repository, digest } = m;
    const [unchanged, tagged] = await Promise.all([
      db.registryManifest.count({ where: { appId, repository, digest, pushedAt: m.pushedAt } }),
      db.registryTag.count({ where: { appId, repository, digest } }),
    ]);
    if (unchanged === 0 || tagged > 0) {
      out.spared++;
      return;
    }
    const store = storageName(appId, repository);
    let status: number;
    try {
      const res = await callStorage(backend, { method: "DELETE", path: `/v2/${store}/manifests/${digest}`, access: deleteAccess(store), signal: AbortSignal.timeout(60_000) });
      status = res.statusCode;
      const text = await res.body.text();
      if (status !== 202 && status !== 404) log.error("garbage collection: distribution did not delete a manifest", { store, digest, status, body: text.slice(0, 500) });
    } catch (e) {
      out.failed++;
      log.error("garbage collection: manifest delete failed", { store, digest, error: e instanceof Error ? e.message : String(e) });
      return;
    }
    // A 404 leaves the record: a storage that lacks a manifest Gantry recorded may be the wrong one
    // (--config, GANTRY_REGISTRY_BACKEND), and forgetting would hide content the right one still holds.
    if (status === 404) {
      out.missing++;
      return;
    }
    if (status !== 202) {
      out.failed++;
      return;
    }
    await forgetManifest(appId, repository, digest);
    out.deleted++;
    await recordActivity(db, {
      teamId: m.teamId,
      actor: GC_ACTOR,
      action: "image.manifest_deleted",
      resourceType: "image",
      resourceId: `${m.appSlug}/${repository}@${digest}`,
      metadata: { app: m.appSlug, repository, digest, via: "garbage collection (untagged)" },
    });
  });
  return out;
}

export interface DryRunCount {
  /** Manifests that would be deleted (those the storage still has). */
  deleted: number;
  /** Records whose manifest the storage does not have: left as they are. */
  missing: number;
  /** Blobs (manifests included) only those manifests reference, and their bytes. */
  blobs: number;
  bytes: number;
}

/**
 * What deleting the plan's manifests would free: the blobs they reference
 * (themselves, config, layers) that no kept manifest references, in any
 * repository — the mark distribution's collector will make, from Gantry's
 * records. Sizes are the descriptors'. Reads every kept manifest: a dry run may
 * be slow on a large registry, it takes no lock.
 */
export async function countUntagged(backend: StorageBackend, plan: GcPlan): Promise<DryRunCount> {
  const read = async (store: string, digest: string) => {
    const key = `${store}@${digest}`;
    if (!plan.read.has(key)) plan.read.set(key, await readStoredManifest(backend, store, digest));
    return plan.read.get(key) ?? null;
  };
  const marked = new Set<string>();
  const keptList = [...plan.keptByStore].flatMap(([store, digests]) => [...digests].map((digest) => ({ store, digest })));
  await eachLimited(keptList, async ({ store, digest }) => {
    const m = await read(store, digest);
    if (!m) return;
    marked.add(digest);
    for (const b of m.blobs) marked.add(b.digest);
  });
  const freed = new Map<string, number>();
  const count: DryRunCount = { deleted: 0, missing: 0, blobs: 0, bytes: 0 };
  await eachLimited(plan.remove, async (c) => {
    const m = await read(storageName(c.appId, c.repository), c.digest);
    if (!m) {
      count.missing++;
      return;
    }
    count.deleted++;
    const refs: BlobRef[] = [{ digest: c.digest, size: m.size }, ...m.blobs];
    for (const b of refs) if (!marked.has(b.digest)) freed.set(b.digest, b.size);
  });
  count.blobs = freed.size;
  for (const size of freed.values()) count.bytes += size;
  return count;
}
