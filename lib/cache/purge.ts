import "server-only";
import fs from "node:fs/promises";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { notFound } from "@/lib/errors";
import { contentFiles } from "./disk-walk";
import { contentPath, contentRoot } from "./layout";

/** What a purge removed. */
export interface PurgeReport {
  scope: "all" | { app: string };
  links: number;
  tags: number;
  files: number;
  bytesFreed: number;
}

/** SQLite allows 32766 bound parameters; stay far below for `IN (…)` lists. */
const CHUNK = 500;

/** Removes a file; false when it was gone already (an eviction or another purge was faster). */
async function unlinkIfPresent(file: string): Promise<boolean> {
  try {
    await fs.unlink(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

/** Removes a file and says how large it was; null when it was gone already. */
async function unlinkCounting(file: string): Promise<number | null> {
  const size = await fs.lstat(file).then((st) => st.size, (e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  });
  return size !== null && (await unlinkIfPresent(file)) ? size : null;
}

/**
 * Empties the proxy cache (`gantry cache purge`). Every CacheLink and CacheTag
 * row goes, then every file under the content root. The traffic history
 * (CacheUsage) stays: it describes what was served, not what is stored. Fills in
 * progress write under `<dir>/tmp/`, which is left alone. Deleting a file a
 * running server streams from is safe on Linux (its open descriptor keeps the
 * data); a server that then finds a link without its file treats it as a miss.
 */
export async function purgeAll(options: { dir?: string } = {}): Promise<PurgeReport> {
  const dir = options.dir ?? env().cache.dir;
  const [links, tags] = await db.$transaction([db.cacheLink.deleteMany(), db.cacheTag.deleteMany()]);
  let files = 0;
  let bytesFreed = 0;
  for await (const f of contentFiles(contentRoot(dir))) {
    // The walk has the size already.
    if (!(await unlinkIfPresent(f.file))) continue;
    files++;
    bytesFreed += f.size;
  }
  return { scope: "all", links: links.count, tags: tags.count, files, bytesFreed };
}

/**
 * Empties one app's share of the cache (`gantry cache purge --app SLUG`): its
 * CacheLinks, then the content files no other app's link
 * still references (content is shared by digest). CacheTags are per registry,
 * not per app, and stay. An unknown slug is NOT_FOUND.
 */
export async function purgeApp(slug: string, options: { dir?: string } = {}): Promise<PurgeReport> {
  const dir = options.dir ?? env().cache.dir;
  const app = await db.app.findUnique({ where: { slug }, select: { id: true, slug: true } });
  if (!app) throw notFound("App");
  const linked = await db.cacheLink.findMany({ where: { appId: app.id }, distinct: ["digest"], select: { digest: true } });
  const links = await db.cacheLink.deleteMany({ where: { appId: app.id } });
  let files = 0;
  let bytesFreed = 0;
  const digests = linked.map((l) => l.digest);
  for (let i = 0; i < digests.length; i += CHUNK) {
    const chunk = digests.slice(i, i + CHUNK);
    const kept = await db.cacheLink.findMany({ where: { digest: { in: chunk } }, distinct: ["digest"], select: { digest: true } });
    const stillUsed = new Set(kept.map((k) => k.digest));
    for (const digest of chunk) {
      if (stillUsed.has(digest)) continue;
      let file: string;
      try {
        file = contentPath(dir, digest);
      } catch {
        continue; // not a sha256 digest: the cache never wrote a file for it
      }
      const size = await unlinkCounting(file);
      if (size === null) continue;
      files++;
      bytesFreed += size;
    }
  }
  return { scope: { app: app.slug }, links: links.count, tags: 0, files, bytesFreed };
}
