import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";

/**
 * What bench:airgap checks a downloaded bundle holds, so a server that
 * streams garbage fast cannot pass: the tar read with tar-stream (the
 * library, not the writer's own code), every blob under images/blobs/sha256/
 * hashed and compared with its file name, and images/index.json's manifests.
 */
export interface BundleContents {
  /** digest (sha256:…) → size, of every blob in the bundle's layout. */
  blobs: Map<string, number>;
  /** Blobs whose sha256 is not their file name. */
  mismatched: string[];
  /** The digests images/index.json lists. */
  indexDigests: string[];
  entries: number;
}

const BLOB = /\/images\/blobs\/sha256\/([a-f0-9]{64})$/;

export async function readBundle(file: string): Promise<BundleContents> {
  const out: BundleContents = { blobs: new Map(), mismatched: [], indexDigests: [], entries: 0 };
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    out.entries++;
    const blob = BLOB.exec(header.name);
    const isIndex = header.name.endsWith("/images/index.json");
    const hash = crypto.createHash("sha256");
    const index: Buffer[] = [];
    let size = 0;
    stream.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (blob) hash.update(chunk);
      if (isIndex) index.push(chunk);
    });
    stream.on("end", () => {
      if (blob) {
        out.blobs.set(`sha256:${blob[1]}`, size);
        if (hash.digest("hex") !== blob[1]) out.mismatched.push(blob[1]!);
      }
      if (isIndex) {
        const parsed = JSON.parse(Buffer.concat(index).toString("utf8")) as { manifests?: { digest: string }[] };
        out.indexDigests = (parsed.manifests ?? []).map((m) => m.digest);
      }
      next();
    });
  });
  await pipeline(fs.createReadStream(file, { highWaterMark: 1024 * 1024 }), extract);
  return out;
}

/** digest → size of the blobs in an OCI layout skopeo wrote (skopeo verified each digest while writing it). */
export function layoutBlobSizes(layoutDir: string): Map<string, number> {
  const dir = path.join(layoutDir, "blobs", "sha256");
  return new Map(fs.readdirSync(dir).map((hex) => [`sha256:${hex}`, fs.statSync(path.join(dir, hex)).size]));
}

/** The same digests with the same sizes in both. */
export function sameBlobs(a: Map<string, number>, b: Map<string, number>): boolean {
  return a.size === b.size && [...a].every(([digest, size]) => b.get(digest) === size);
}
