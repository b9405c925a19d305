import "server-only";
import crypto from "node:crypto";
import { LRUCache } from "lru-cache";
import { log } from "@/lib/log";
import { processWide } from "@/lib/process-wide";
import type { PinnedScope } from "./scope";

/**
 * Which digests a pinned license may pull by digest (scope.ts says which tags):
 * what one of its allowed tags resolved to — when a release within the pin was
 * probed or re-probed (in the scope snapshot), or what the registry says the
 * tag is now (a vendor who re-pushes api:1.0.0 must not lock pinned customers
 * out) — or a platform manifest of such an index.
 *
 * The common case is an in-memory lookup: every tag the proxy or the registry
 * resolves is noted here (digest → the tags it was seen as, per repository),
 * and every index that passes verified, with its children (a digest's
 * children never change, so digest → children is safe to keep). Only when
 * those say no (another replica resolved the tag, this process restarted) is
 * the record asked (`DigestSource`: CacheTag at the proxy, RegistryTag on
 * Gantry's registry), at most once per SNAPSHOT-like interval per repository
 * and tag set, and an index whose children are unknown is read once.
 */
export interface DigestSource {
  /** The repository's tag namespace ("proxy" registry + repository, or "hosted" app + repository). */
  key: string;
  /** What the tags point at now, as recorded. */
  currentDigests(tags: string[]): Promise<{ tag: string; digest: string }[]>;
  /** A manifest's bytes by digest (verified here), to read an index's children; null when unavailable. */
  manifest(digest: string): Promise<Buffer | null>;
}

const INDEX_TYPES = new Set(["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]);
const DIGEST_RE = /^sha(?:256:[a-f0-9]{64}|384:[a-f0-9]{96}|512:[a-f0-9]{128})$/;
/** Most children kept per index (an index lists platforms and attestations: a handful). */
const MAX_CHILDREN = 1024;
/** How long what the record says a tag is now is trusted before it is asked again. */
const CURRENT_TTL_MS = 750;
/** How many unknown indexes one check reads at most (each once per process: digests are immutable). */
const MAX_READS_PER_CHECK = 16;

interface Memo {
  /** "<key>\0<digest>" → the tags it was seen as. */
  seenAs: LRUCache<string, Set<string>>;
  /** "<key>\0<tag>" → the digest it was last seen at (the indexes whose children a check may read). */
  lastSeen: LRUCache<string, string>;
  /** index digest → the digests it lists ([] for a manifest that is not an index). */
  children: LRUCache<string, readonly string[]>;
  /** child digest → the indexes that list it. */
  parents: LRUCache<string, Set<string>>;
  /** "<key>\0<tags>" → what the record said those tags were, for CURRENT_TTL_MS. */
  current: LRUCache<string, Promise<{ tag: string; digest: string }[]>>;
  /** Indexes that could not be read just now: not retried on every refused request. */
  unreadable: LRUCache<string, true>;
}

const memo = processWide<Memo>("pinned-digests", () => ({
  seenAs: new LRUCache({ max: 100_000 }),
  lastSeen: new LRUCache({ max: 100_000 }),
  children: new LRUCache({ max: 50_000 }),
  parents: new LRUCache({ max: 100_000 }),
  current: new LRUCache({ max: 10_000, ttl: CURRENT_TTL_MS }),
  unreadable: new LRUCache({ max: 10_000, ttl: 5_000 }),
}));

/** The tag namespace of a repository on an upstream registry (CacheTag's key). */
export const proxyTagKey = (registryId: string, repository: string) => `proxy\u0000${registryId}\u0000${repository}`;
/** The tag namespace of a repository of Gantry's own registry (RegistryTag's key). */
export const hostedTagKey = (appId: string, repository: string) => `hosted\u0000${appId}\u0000${repository}`;

/** Notes that a tag resolved to a digest (the registry said so just now). */
export function noteTag(key: string, tag: string, digest: string): void {
  if (!DIGEST_RE.test(digest)) return;
  memo.lastSeen.set(`${key}\u0000${tag}`, digest);
  const k = `${key}\u0000${digest}`;
  const tags = memo.seenAs.get(k);
  if (!tags) memo.seenAs.set(k, new Set([tag]));
  else if (!tags.has(tag) && tags.size < 64) tags.add(tag);
}

/** Notes an index's children; the caller vouches that `digest` is the digest of the manifest listing them. */
export function noteChildren(digest: string, children: readonly string[]): void {
  if (memo.children.has(digest)) return;
  const list = children.filter((c) => DIGEST_RE.test(c)).slice(0, MAX_CHILDREN);
  memo.children.set(digest, list);
  for (const child of list) {
    const parents = memo.parents.get(child);
    if (!parents) memo.parents.set(child, new Set([digest]));
    else if (parents.size < 64) parents.add(digest);
  }
}

/** Notes a verified manifest's children when it is an index (a cheap no-op once known, or for other types). */
export function noteManifest(digest: string, body: Buffer, mediaType: string | null): void {
  if (memo.children.has(digest)) return;
  // Not an index: no children, and no need to read it again to find that out.
  if (mediaType !== null && !INDEX_TYPES.has(mediaType.split(";")[0]?.trim() ?? "")) return noteChildren(digest, []);
  noteChildren(digest, childrenIn(body) ?? []);
}

/** The digests an index lists; null when the body is not an index. */
function childrenIn(body: Buffer): string[] | null {
  try {
    const json = JSON.parse(body.toString("utf8")) as { manifests?: unknown };
    if (!Array.isArray(json.manifests)) return null;
    return json.manifests.flatMap((m: unknown) => (m && typeof m === "object" && typeof (m as { digest?: unknown }).digest === "string" ? [(m as { digest: string }).digest] : []));
  } catch {
    return null;
  }
}

function verified(digest: string, body: Buffer): boolean {
  const [algorithm, hex] = digest.split(":");
  if (algorithm !== "sha256" && algorithm !== "sha384" && algorithm !== "sha512") return false;
  return crypto.createHash(algorithm).update(body).digest("hex") === hex;
}

/** Whether a digest is one the scope allows, from memory only. */
function knownAllowed(scope: PinnedScope, key: string, digest: string): boolean {
  if (scope.digests.has(digest)) return true;
  const tags = memo.seenAs.get(`${key}\u0000${digest}`);
  if (tags) for (const t of tags) if (scope.tags.has(t)) return true;
  return false;
}

/**
 * Whether a pinned license may pull this manifest digest: what one of its
 * tags resolved to, or a manifest listed by such an index.
 */
export async function digestInPin(scope: PinnedScope, digest: string, source: DigestSource): Promise<boolean> {
  if (knownAllowed(scope, source.key, digest)) return true;
  const parents = memo.parents.get(digest);
  if (parents) for (const p of parents) if (knownAllowed(scope, source.key, p)) return true;
  if (scope.tags.size === 0 && scope.digests.size === 0) return false;

  // Not in memory: what do the records say the allowed tags are now?
  const tops = new Set(scope.digests);
  for (const tag of scope.tags) {
    const seen = memo.lastSeen.get(`${source.key}\u0000${tag}`);
    if (seen) tops.add(seen);
  }
  if (scope.tags.size > 0) {
    let current = false;
    for (const { tag, digest: now } of await currentDigests(source, [...scope.tags])) {
      noteTag(source.key, tag, now);
      tops.add(now);
      current ||= now === digest;
    }
    if (current) return true;
  }
  // A platform manifest of an index not read in this process yet.
  let reads = 0;
  for (const top of tops) {
    let children = memo.children.get(top);
    if (children === undefined) {
      if (memo.unreadable.has(top) || reads >= MAX_READS_PER_CHECK) continue;
      reads++;
      children = await readChildren(top, source);
      if (children === undefined) continue;
    }
    if (children.includes(digest)) return true;
  }
  return false;
}

function currentDigests(source: DigestSource, tags: string[]): Promise<{ tag: string; digest: string }[]> {
  const k = `${source.key}\u0000${tags.sort().join("\u0000")}`;
  let pending = memo.current.get(k);
  if (!pending) {
    pending = source.currentDigests(tags);
    memo.current.set(k, pending);
    pending.catch(() => memo.current.delete(k));
  }
  return pending;
}

/** Reads in flight: a burst of clients asking for an unknown index's children reads it once. */
const reading = new Map<string, Promise<readonly string[] | undefined>>();

function readChildren(digest: string, source: DigestSource): Promise<readonly string[] | undefined> {
  let pending = reading.get(digest);
  if (!pending) {
    pending = readChildrenOnce(digest, source).finally(() => reading.delete(digest));
    reading.set(digest, pending);
  }
  return pending;
}

async function readChildrenOnce(digest: string, source: DigestSource): Promise<readonly string[] | undefined> {
  try {
    const body = await source.manifest(digest);
    if (body && verified(digest, body)) {
      noteChildren(digest, childrenIn(body) ?? []);
      return memo.children.get(digest);
    }
  } catch (e) {
    log.info("could not read a manifest to check a pinned license's digest", { digest, error: e instanceof Error ? e.message : String(e) });
  }
  memo.unreadable.set(digest, true);
  return undefined;
}

/** For tests: forget everything noted (as a new replica would start). */
export function forgetPinnedDigestsForTests(): void {
  memo.seenAs.clear();
  memo.lastSeen.clear();
  memo.children.clear();
  memo.parents.clear();
  memo.current.clear();
  memo.unreadable.clear();
}
