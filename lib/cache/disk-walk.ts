import "server-only";
import type { Dir } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";

/** One file found under the cache's content root. */
export interface ContentFile {
  file: string;
  size: number;
  mtimeMs: number;
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * Every file under `root` (the content root: `sha256/<2 hex>/<hex>`), two
 * levels deep at most, read with `opendir` so a large cache is streamed rather
 * than listed into memory. Directories that vanish meanwhile (a purge, an
 * eviction) are skipped. Symbolic links are reported as files (lstat), never
 * followed. Stops after `limit` files.
 */
export async function* contentFiles(root: string, limit = Number.POSITIVE_INFINITY): AsyncGenerator<ContentFile> {
  let seen = 0;
  let top: Dir;
  try {
    top = await fs.opendir(root);
  } catch (e) {
    if (isMissing(e)) return;
    throw e;
  }
  for await (const shard of top) {
    const shardPath = path.join(root, shard.name);
    if (!shard.isDirectory()) {
      const st = await statOf(shardPath);
      if (st !== null) {
        if (seen++ >= limit) return;
        yield { file: shardPath, ...st };
      }
      continue;
    }
    let dir: Dir;
    try {
      dir = await fs.opendir(shardPath);
    } catch (e) {
      if (isMissing(e)) continue;
      throw e;
    }
    for await (const entry of dir) {
      if (entry.isDirectory()) continue;
      const file = path.join(shardPath, entry.name);
      const st = await statOf(file);
      if (st === null) continue;
      // Returning inside for-await closes the directory handles.
      if (seen++ >= limit) return;
      yield { file, ...st };
    }
  }
}

async function statOf(file: string): Promise<{ size: number; mtimeMs: number } | null> {
  try {
    const st = await fs.lstat(file);
    return { size: st.size, mtimeMs: st.mtimeMs };
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
}

/** Files and bytes under the content root, counting at most `limit` files (`complete` says whether all were). */
export async function diskUsage(root: string, limit: number): Promise<{ files: number; bytes: number; complete: boolean }> {
  let files = 0;
  let bytes = 0;
  for await (const f of contentFiles(root, limit + 1)) {
    if (files === limit) return { files, bytes, complete: false };
    files++;
    bytes += f.size;
  }
  return { files, bytes, complete: true };
}
