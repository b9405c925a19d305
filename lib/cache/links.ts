import "server-only";
import { LRUCache } from "lru-cache";
import { LookupCache } from "@/lib/lookup-cache";
import { db } from "@/lib/db";
import { log } from "@/lib/log";

/**
 * Which app may be served which cached digest, fetched from which registry
 * repository (CacheLink), and the last digest seen for each tag (CacheTag).
 * Lookups are remembered for 2 s in memory (a purge from the CLI is seen
 * within that), writes go straight to the database.
 */
export interface LinkKey {
  appId: string;
  registryId: string;
  repository: string;
  digest: string;
}

export interface Link extends LinkKey {
  id: string;
  teamId: string;
  kind: "blob" | "manifest";
  mediaType: string | null;
  size: number;
}

const LOOKUP_TTL_MS = 2_000;
const lookups = new LookupCache<Link | null>({ max: 50_000, ttlMs: LOOKUP_TTL_MS });
const keyOf = (k: LinkKey) => `${k.appId}\u0000${k.registryId}\u0000${k.repository}\u0000${k.digest}`;

function toLink(row: { id: string; teamId: string; appId: string; registryId: string; repository: string; digest: string; kind: string; mediaType: string | null; size: bigint }): Link {
  return { ...row, kind: row.kind === "manifest" ? "manifest" : "blob", size: Number(row.size) };
}

export function findLink(key: LinkKey): Promise<Link | null> {
  return lookups.get(keyOf(key), async () => {
    const row = await db.cacheLink.findUnique({ where: { appId_registryId_repository_digest: key } });
    return row ? toLink(row) : null;
  });
}

export async function saveLink(link: Omit<Link, "id">): Promise<void> {
  const { appId, registryId, repository, digest, teamId, kind, mediaType, size } = link;
  try {
    const row = await db.cacheLink.upsert({
      where: { appId_registryId_repository_digest: { appId, registryId, repository, digest } },
      create: { teamId, appId, registryId, repository, digest, kind, mediaType, size: BigInt(size) },
      update: { lastUsedAt: new Date(), mediaType, size: BigInt(size) },
    });
    lookups.set(keyOf(link), toLink(row));
  } catch (e) {
    // The app or registry was deleted meanwhile: nothing to link; the content ages out.
    log.warn("could not record a cache link", { appId, digest, error: e instanceof Error ? e.message : String(e) });
  }
}

/** What the tags of a registry repository were last seen as upstream (a pinned license's by-digest check). */
export async function tagDigests(registryId: string, repository: string, tags: string[]): Promise<{ tag: string; digest: string }[]> {
  return db.cacheTag.findMany({ where: { registryId, repository, tag: { in: tags } }, select: { tag: true, digest: true } });
}

/** The apps a digest was linked for, and drops the links (the content is gone). */
export async function unlinkDigest(digest: string): Promise<{ teamId: string; appId: string }[]> {
  const rows = await db.cacheLink.findMany({ where: { digest }, select: { teamId: true, appId: true } });
  await db.cacheLink.deleteMany({ where: { digest } });
  lookups.clear();
  const seen = new Map(rows.map((r) => [r.appId, r]));
  return [...seen.values()];
}

/** Last use of links, written in batches (the Cache page's "last pulled"). */
const usedLinks = new Set<string>();
let usedTimer: NodeJS.Timeout | null = null;
export function markLinkUsed(id: string): void {
  if (usedLinks.size >= 10_000) return;
  usedLinks.add(id);
  usedTimer ??= setTimeout(() => {
    usedTimer = null;
    const ids = [...usedLinks];
    usedLinks.clear();
    db.cacheLink.updateMany({ where: { id: { in: ids } }, data: { lastUsedAt: new Date() } }).catch((e: unknown) => log.warn("could not mark cache links used", { error: e instanceof Error ? e.message : String(e) }));
  }, 60_000).unref();
}

export interface TagRecord {
  digest: string;
  mediaType: string;
  seenAt: Date;
}

/** What was written last per tag, so an unchanged tag is rewritten at most once a minute. */
const tagWrites = new LRUCache<string, { digest: string; at: number }>({ max: 20_000 });

/**
 * Remembers what a tag pointed to upstream just now. An unchanged tag served
 * from the cache is rewritten at most once a minute by this process. One whose
 * manifest had to be `fetched` upstream is always written: the cache did not
 * have it, and if it lost it to a purge (`gantry cache purge`, from any process
 * or replica, deletes the tag records with the links) the record went too, and
 * without it an outage in the next minute could not serve the tag stale. A
 * purge removes the links, so every replica's next pull of the tag is such a
 * miss, once its 2 s link lookups have expired.
 */
export async function recordTag(registryId: string, repository: string, tag: string, digest: string, mediaType: string, options: { fetched?: boolean } = {}): Promise<void> {
  const now = new Date();
  const k = `${registryId}\u0000${repository}\u0000${tag}`;
  const last = tagWrites.get(k);
  if (!options.fetched && last && last.digest === digest && now.getTime() - last.at < 60_000) return;
  tagWrites.set(k, { digest, at: now.getTime() });
  try {
    await db.cacheTag.upsert({
      where: { registryId_repository_tag: { registryId, repository, tag } },
      create: { registryId, repository, tag, digest, mediaType, seenAt: now },
      update: { digest, mediaType, seenAt: now },
    });
  } catch (e) {
    tagWrites.delete(k);
    log.warn("could not record a tag", { registryId, repository, tag, error: e instanceof Error ? e.message : String(e) });
  }
}

export async function lastKnownTag(registryId: string, repository: string, tag: string): Promise<TagRecord | null> {
  return db.cacheTag.findUnique({ where: { registryId_repository_tag: { registryId, repository, tag } }, select: { digest: true, mediaType: true, seenAt: true } });
}
