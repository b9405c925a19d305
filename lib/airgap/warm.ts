import "server-only";
import { proxyCache } from "@/lib/cache/cache";
import { db } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { releaseForInstaller } from "@/lib/releases/releases";
import { planLayout } from "./oci-layout";
import { releaseImages } from "./release-images";
import type { TarFile } from "./tar-archive";

/**
 * A release's bundle before anyone downloads it: its images' size (every
 * manifest and blob, public images included, charts and generated files
 * aside: those are a few kilobytes), and `airgap warm`, which fetches every
 * blob of the release's private images into the proxy cache so the first
 * download streams at disk speed. Public images are not cached (they have no
 * registry of the team's to be linked to) and images on Gantry's registry are
 * already on its disk: warm skips both.
 */
export interface BundleEstimate {
  images: number;
  platforms: number;
  blobs: number;
  bytes: number;
}

async function appAndRelease(teamId: string, appSlug: string, version: string) {
  const app = await db.app.findFirst({ where: { teamId, slug: appSlug }, select: { id: true, slug: true } });
  if (!app) throw notFound("App");
  return { app, release: await releaseForInstaller(teamId, app.id, version) };
}

export async function bundleEstimate(teamId: string, appSlug: string, version: string, signal?: AbortSignal): Promise<BundleEstimate> {
  const { app, release } = await appAndRelease(teamId, appSlug, version);
  const images = await releaseImages(teamId, app, release, { includePublic: release.airgapPublic });
  const layout = await planLayout(
    images.map((i, n) => ({ refName: String(n), digest: i.digest, content: i.content, label: i.source, narrow: !i.byDigest })),
    "x",
    signal,
    release.platforms,
  );
  return { images: images.length, platforms: layout.images.reduce((n, i) => n + Math.max(1, i.platforms.length), 0), blobs: layout.blobCount, bytes: layout.blobBytes };
}

export interface WarmReport {
  images: number;
  blobs: number;
  bytes: number;
  seconds: number;
  skipped: { public: number; onGantryRegistry: number };
  /** Blobs read but not kept: the cache refused them (too large for it, its fills busy, the disk below its floor). */
  notCached: number;
}

/** Reads every blob of the release's private images through the cache (filling what is missing), `concurrency` at a time. */
export async function warmRelease(teamId: string, appSlug: string, version: string, options: { concurrency?: number; onBlob?: (done: number, total: number) => void } = {}): Promise<WarmReport> {
  const started = Date.now();
  if (!proxyCache()) throw new Error("The proxy cache is off (GANTRY_CACHE_MAX_BYTES=0): there is nothing to warm.");
  const { app, release } = await appAndRelease(teamId, appSlug, version);
  const all = await releaseImages(teamId, app, release, { includePublic: true });
  const privateImages = all.filter((i) => i.kind === "private");
  const layout = await planLayout(
    privateImages.map((i, n) => ({ refName: String(n), digest: i.digest, content: i.content, label: i.source, narrow: !i.byDigest })),
    "x",
    undefined,
    release.platforms,
  );
  const files = layout.entries.filter((e): e is TarFile => e.type !== "directory" && e.path.startsWith("x/blobs/sha256/"));
  let next = 0;
  let done = 0;
  let bytes = 0;
  let notCached = 0;
  const cache = proxyCache()!;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++]!;
      if (file.size > 0) {
        for await (const chunk of await file.open(0, file.size - 1)) bytes += chunk.length;
      }
      if (!cache.store.has(`sha256:${file.path.slice(file.path.lastIndexOf("/") + 1)}`)) notCached++;
      options.onBlob?.(++done, files.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, files.length) }, worker));
  return {
    images: privateImages.length,
    blobs: files.length,
    bytes,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    skipped: { public: all.filter((i) => i.kind === "public").length, onGantryRegistry: all.filter((i) => i.kind === "vendor_registry").length },
    notCached,
  };
}
