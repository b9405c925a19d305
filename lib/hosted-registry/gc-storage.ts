import fs from "node:fs";
import path from "node:path";
import { INDEX_TYPES, MANIFEST_MAX_BYTES } from "./records";
import { callStorage, pullAccess, type StorageBackend } from "./storage";

/**
 * What garbage collection reads of the storage besides distribution's own
 * collector: that it answers Gantry's tokens, manifests read back (an index's
 * platform manifests, an image's layers), and the blobs of a filesystem
 * storage (to measure what a run frees).
 */
/** Fails early (before the registry turns read-only) when distribution does not answer or refuses Gantry's token. */
export async function checkStorageAnswers(backend: StorageBackend): Promise<void> {
  let status: number;
  try {
    const res = await callStorage(backend, { method: "GET", path: "/v2/", access: [], signal: AbortSignal.timeout(10_000) });
    status = res.statusCode;
    await res.body.dump();
  } catch (e) {
    throw new Error(`The registry's storage does not answer at ${backend.origin()} (${e instanceof Error ? e.message : String(e)}): run this while Gantry (or the distribution you run) is up.`);
  }
  if (status === 401 || status === 403) throw new Error(`The registry's storage at ${backend.origin()} refused Gantry's token: the signing key is not the one its config trusts.`);
  if (status !== 200) throw new Error(`The registry's storage at ${backend.origin()} answered ${status} to /v2/.`);
}

export interface BlobRef {
  digest: string;
  size: number;
}

export interface StoredManifest {
  mediaType: string;
  size: number;
  /** Manifests an index lists (empty for an image). */
  children: string[];
  /** What distribution's collector marks for it: config and layers, or the listed manifests. */
  blobs: BlobRef[];
}

const ACCEPT = [...INDEX_TYPES, "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"].join(", ");
const DIGEST_RE = /^sha(256:[a-f0-9]{64}|512:[a-f0-9]{128})$/;

/** A manifest as distribution stores it, or null when it has none by that digest there. Throws when it cannot be read. */
export async function readStoredManifest(backend: StorageBackend, store: string, digest: string): Promise<StoredManifest | null> {
  const res = await callStorage(backend, { method: "GET", path: `/v2/${store}/manifests/${digest}`, access: pullAccess(store), headers: { accept: ACCEPT }, signal: AbortSignal.timeout(60_000) });
  if (res.statusCode === 404) {
    await res.body.dump();
    return null;
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`distribution answered ${res.statusCode} to ${store}@${digest}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MANIFEST_MAX_BYTES) {
      res.body.destroy();
      throw new Error(`${store}@${digest} is larger than a manifest may be`);
    }
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const json = JSON.parse(body.toString("utf8")) as { mediaType?: unknown; manifests?: unknown; config?: unknown; layers?: unknown };
  const header = typeof res.headers["content-type"] === "string" ? res.headers["content-type"].split(";")[0]!.trim() : "";
  const mediaType = typeof json.mediaType === "string" ? json.mediaType : header;
  const refs = (list: unknown, what: string): BlobRef[] => {
    if (list === undefined) return [];
    if (!Array.isArray(list)) throw new Error(`${store}@${digest}: ${what} is not a list`);
    return list.map((d: { digest?: unknown; size?: unknown }) => {
      if (typeof d?.digest !== "string" || !DIGEST_RE.test(d.digest)) throw new Error(`${store}@${digest}: a descriptor in ${what} has no valid digest`);
      return { digest: d.digest, size: typeof d.size === "number" && Number.isSafeInteger(d.size) && d.size >= 0 ? d.size : 0 };
    });
  };
  if (INDEX_TYPES.has(mediaType) || json.manifests !== undefined) {
    const listed = refs(json.manifests, "manifests");
    return { mediaType, size: body.length, children: listed.map((d) => d.digest), blobs: listed };
  }
  return { mediaType, size: body.length, children: [], blobs: [...refs(json.config === undefined ? undefined : [json.config], "config"), ...refs(json.layers, "layers")] };
}

/** The data file of a blob in a filesystem storage. */
const blobFile = (blobsDir: string, digest: string) => {
  const [alg = "", hex = ""] = digest.split(":");
  return path.join(blobsDir, alg, hex.slice(0, 2), hex, "data");
};

/** Blobs and bytes in a filesystem storage (blobs/<alg>/<xx>/<hex>/data). */
export async function measureBlobs(blobsDir: string): Promise<{ blobs: number; bytes: number }> {
  let blobs = 0;
  let bytes = 0;
  const list = async (dir: string) => fs.promises.readdir(dir).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? [] : Promise.reject(e)));
  for (const alg of await list(blobsDir)) {
    for (const prefix of await list(path.join(blobsDir, alg))) {
      for (const hex of await list(path.join(blobsDir, alg, prefix))) {
        const stat = await fs.promises.stat(path.join(blobsDir, alg, prefix, hex, "data")).catch(() => null);
        if (!stat) continue;
        blobs++;
        bytes += stat.size;
      }
    }
  }
  return { blobs, bytes };
}

/** Bytes of these blobs in a filesystem storage (missing ones count 0). */
export async function blobBytes(blobsDir: string, digests: string[]): Promise<number> {
  let bytes = 0;
  for (const d of digests) bytes += (await fs.promises.stat(blobFile(blobsDir, d)).catch(() => null))?.size ?? 0;
  return bytes;
}
