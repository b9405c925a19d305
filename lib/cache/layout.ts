import path from "node:path";

/**
 * Where the proxy cache keeps content on disk. Content-addressed: one file per
 * digest, `<dir>/sha256/<first two hex>/<hex>`; fills in progress are written
 * under `<dir>/tmp/` and renamed into place only once their sha256 matched.
 * The database (CacheLink) says which app, registry and repository may be
 * served each digest; the files say nothing about who may read them.
 */
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

export function isCacheableDigest(digest: string): boolean {
  return DIGEST_PATTERN.test(digest);
}

/** The file a digest lives in. Throws on anything but a canonical sha256 digest (no path tricks). */
export function contentPath(dir: string, digest: string): string {
  if (!isCacheableDigest(digest)) throw new Error(`not a cacheable digest: ${digest.slice(0, 80)}`);
  const hex = digest.slice(7);
  return path.join(dir, "sha256", hex.slice(0, 2), hex);
}

/** The digest a content file stands for, or null for anything else found under the directory. */
export function digestOfPath(file: string): string | null {
  const hex = path.basename(file);
  const digest = `sha256:${hex}`;
  return isCacheableDigest(digest) && path.basename(path.dirname(file)) === hex.slice(0, 2) ? digest : null;
}

export function contentRoot(dir: string): string {
  return path.join(dir, "sha256");
}

export function tmpDir(dir: string): string {
  return path.join(dir, "tmp");
}
