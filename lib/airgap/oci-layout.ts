import "server-only";
import crypto from "node:crypto";
import { AppError } from "@/lib/errors";
import { ProxyError } from "@/lib/proxy/errors";
import { MEDIA_TYPES } from "@/lib/registry-client/media-types";
import type { ImageContent } from "./sources";
import type { TarEntry } from "./tar-archive";

/**
 * An OCI image layout (image-layout spec v1.1: `oci-layout`, `index.json`,
 * `blobs/sha256/<hex>`) of a set of images, as tar entries: manifests are
 * fetched now (they are small, and they say which blobs follow and how big
 * each is), blobs are opened only when the archive reaches them. Every
 * platform of an index comes along, as `skopeo copy --all` expects.
 *
 * Deterministic: blobs in digest order, index.json's manifests in the order
 * given, JSON written in a fixed key order: the same images give the same
 * bytes. `prefix` is the layout's directory in the archive (no trailing slash).
 */
export interface LayoutImage {
  /** org.opencontainers.image.ref.name in index.json. */
  refName: string;
  /** The manifest or index digest (what the release resolved the image to). */
  digest: string;
  content: ImageContent;
  /** For error messages: the image as the release writes it. */
  label: string;
  /** false: keep every platform whatever `platforms` says (an image the manifests pin by its index digest). */
  narrow?: boolean;
}

export interface PlannedLayout {
  entries: TarEntry[];
  /** sha256 of index.json: names every byte of the layout (manifests name their blobs by digest). */
  indexDigest: string;
  images: { refName: string; digest: string; mediaType: string; size: number; platforms: string[] }[];
  blobCount: number;
  /** Content bytes of every blob, manifests included. */
  blobBytes: number;
}

/** Manifests per image (an index and its children, nested indexes included): a bound on what a registry can make Gantry fetch. */
const MAX_MANIFESTS_PER_IMAGE = 512;
const MAX_DEPTH = 3;
/**
 * Manifests are held in memory for the whole download (they are the archive's
 * smallest files, and reading them is what gives every blob's size up front):
 * bounded per bundle, in count and bytes, whatever a registry serves (a manifest
 * may be 4 MiB, an index may list 512).
 */
export const MAX_BUNDLE_MANIFESTS = 4096;
export const MAX_BUNDLE_MANIFEST_BYTES = 64 * 1024 * 1024;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

function descriptors(value: unknown, where: string): Descriptor[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(where, "lists descriptors that are not an array");
  return value.map((d: unknown) => {
    const desc = d as Partial<Descriptor> | null;
    if (!desc || typeof desc.digest !== "string" || !SHA256.test(desc.digest)) throw invalid(where, "names a blob by something other than a sha256 digest");
    if (typeof desc.size !== "number" || !Number.isSafeInteger(desc.size) || desc.size < 0) throw invalid(where, `gives ${desc.digest} a size that is not a byte count`);
    return desc as Descriptor;
  });
}

const invalid = (where: string, what: string) => new ProxyError(502, "MANIFEST_INVALID", `The manifest of ${where} ${what}, so it cannot be bundled.`);

/** A file whose bytes are in memory (generated files, manifests). */
export const memoryEntry = (path: string, bytes: Buffer, mode?: number): TarEntry => ({
  path,
  size: bytes.length,
  ...(mode === undefined ? {} : { mode }),
  async *open(start: number, end: number) {
    yield bytes.subarray(start, end + 1);
  },
});

const platformOf = (p: Descriptor["platform"]) => (p?.os && p.architecture ? `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}` : null);

/**
 * `platforms` ("os/arch[/variant]"; empty: all) narrows each multi-arch image
 * to those platforms: its index is rewritten with the kept manifests (and the
 * attestations that refer to them), so it has a digest of its own, which the
 * layout, images.json and push.sh carry. An image with none of them is
 * refused by name; single-platform images, and indexes the release pins by
 * digest (`narrow: false`: the manifests ask for that very digest), are kept
 * as they are.
 */
export async function planLayout(images: readonly LayoutImage[], prefix: string, signal?: AbortSignal, platforms: readonly string[] = []): Promise<PlannedLayout> {
  const wanted = new Set(platforms);
  const manifests = new Map<string, Buffer>();
  const blobs = new Map<string, { size: number; content: ImageContent }>();
  const tops: PlannedLayout["images"] = [];

  let heldBytes = 0;
  for (const image of images) {
    let count = 0;
    const visit = async (digest: string, depth: number, expectedSize: number | null): Promise<{ mediaType: string; size: number; platforms: string[]; digest?: string }> => {
      if (++count > MAX_MANIFESTS_PER_IMAGE) throw invalid(image.label, `leads to more than ${MAX_MANIFESTS_PER_IMAGE} manifests`);
      const { bytes, mediaType: stored } = await image.content.manifest(digest, signal);
      if (expectedSize !== null && bytes.length !== expectedSize) throw invalid(image.label, `says ${digest} is ${expectedSize} bytes; it is ${bytes.length}`);
      let parsed: { mediaType?: unknown; manifests?: unknown; config?: unknown; layers?: unknown };
      try {
        parsed = JSON.parse(bytes.toString("utf8")) as typeof parsed;
      } catch {
        throw invalid(image.label, "is not JSON");
      }
      if (!manifests.has(digest)) {
        heldBytes += bytes.length;
        if (manifests.size + 1 > MAX_BUNDLE_MANIFESTS || heldBytes > MAX_BUNDLE_MANIFEST_BYTES) {
          throw invalid(image.label, `brings the bundle past ${MAX_BUNDLE_MANIFESTS} manifests or ${MAX_BUNDLE_MANIFEST_BYTES / 1024 / 1024} MiB of them`);
        }
      }
      manifests.set(digest, bytes);
      const mediaType = (typeof parsed.mediaType === "string" ? parsed.mediaType : stored) ?? (parsed.manifests ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest);
      if (INDEX_TYPES.has(mediaType) || Array.isArray(parsed.manifests)) {
        if (depth >= MAX_DEPTH) throw invalid(image.label, `nests indexes deeper than ${MAX_DEPTH}`);
        let children = descriptors(parsed.manifests, image.label);
        // Narrowed to the release's platforms: a new index of the kept manifests, under its own digest.
        let narrowed: { bytes: Buffer; digest: string } | null = null;
        if (depth === 0 && wanted.size && image.narrow !== false) {
          const kept = children.filter((c) => wanted.has(platformOf(c.platform) ?? ""));
          if (!kept.length) {
            const has = children.map((c) => platformOf(c.platform)).filter((p): p is string => p !== null && p !== "unknown/unknown");
            throw new AppError("CONFLICT", `${image.label} has none of the platforms this release bundles (${[...wanted].join(", ")}); it has ${has.join(", ") || "no platforms listed"}.`);
          }
          const keep = new Set(kept.map((c) => c.digest));
          // Attestations (buildkit's "unknown/unknown" manifests) go along with the image they attest.
          for (const c of children) if (keep.has(String((c as { annotations?: Record<string, unknown> }).annotations?.["vnd.docker.reference.digest"] ?? ""))) keep.add(c.digest);
          if (keep.size < children.length) {
            children = children.filter((c) => keep.has(c.digest));
            const bytesOut = Buffer.from(JSON.stringify({ ...parsed, manifests: (parsed.manifests as Descriptor[]).filter((c) => keep.has(c.digest)) }));
            narrowed = { bytes: bytesOut, digest: `sha256:${crypto.createHash("sha256").update(bytesOut).digest("hex")}` };
            manifests.delete(digest);
            manifests.set(narrowed.digest, narrowed.bytes);
          }
        }
        const found: string[] = [];
        for (const child of children) {
          await visit(child.digest, depth + 1, child.size);
          const platform = platformOf(child.platform);
          if (platform && platform !== "unknown/unknown") found.push(platform);
        }
        return narrowed ? { mediaType, size: narrowed.bytes.length, platforms: found, digest: narrowed.digest } : { mediaType, size: bytes.length, platforms: found };
      }
      const config = parsed.config === undefined ? [] : descriptors([parsed.config], image.label);
      for (const blob of [...config, ...descriptors(parsed.layers, image.label)]) {
        const known = blobs.get(blob.digest);
        if (known && known.size !== blob.size) throw invalid(image.label, `gives ${blob.digest} two sizes`);
        if (!known) blobs.set(blob.digest, { size: blob.size, content: image.content });
      }
      return { mediaType, size: bytes.length, platforms: [] };
    };
    const top = await visit(image.digest, 0, null);
    tops.push({ refName: image.refName, digest: top.digest ?? image.digest, mediaType: top.mediaType, size: top.size, platforms: top.platforms });
  }

  const index = Buffer.from(
    `${JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: tops.map((t) => ({ mediaType: t.mediaType, digest: t.digest, size: t.size, annotations: { "org.opencontainers.image.ref.name": t.refName } })),
      },
      null,
      2,
    )}\n`,
  );
  const layoutFile = Buffer.from(`${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`);
  // A digest both a manifest and a blob (a registry can say so) is one file: the manifest's bytes, which are verified.
  for (const digest of manifests.keys()) blobs.delete(digest);
  const all = [
    ...[...manifests].map(([digest, bytes]) => ({ digest, entry: memoryEntry(`${prefix}/blobs/sha256/${digest.slice(7)}`, bytes) })),
    ...[...blobs].map(([digest, { size, content }]) => ({
      digest,
      entry: { path: `${prefix}/blobs/sha256/${digest.slice(7)}`, size, open: (start: number, end: number) => content.blob(digest, size, start, end) } as TarEntry,
    })),
  ].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));

  return {
    entries: [
      { type: "directory", path: prefix },
      memoryEntry(`${prefix}/oci-layout`, layoutFile),
      memoryEntry(`${prefix}/index.json`, index),
      { type: "directory", path: `${prefix}/blobs` },
      { type: "directory", path: `${prefix}/blobs/sha256` },
      ...all.map((a) => a.entry),
    ],
    indexDigest: `sha256:${crypto.createHash("sha256").update(index).digest("hex")}`,
    images: tops,
    blobCount: all.length,
    blobBytes: [...manifests.values()].reduce((n, b) => n + b.length, 0) + [...blobs.values()].reduce((n, b) => n + b.size, 0),
  };
}
