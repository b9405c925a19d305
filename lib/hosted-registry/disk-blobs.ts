import fs from "node:fs";
import type { ServerResponse } from "node:http";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { log } from "@/lib/log";
import { API_VERSION_HEADER, ProxyError } from "@/lib/proxy/errors";
import { parseRange } from "@/lib/proxy/range";

/**
 * Blob reads straight from the embedded distribution's filesystem storage,
 * without the second HTTP hop: measured (bench:registry), relaying a 200 MB
 * pull through distribution cost Gantry ~0.18 s and distribution ~0.09 s of
 * CPU, a file stream ~0.11 s in all. Only for the embedded engine, whose layout
 * is distribution's filesystem driver: a blob is readable in a repository when
 * `repositories/<name>/_layers/<alg>/<hex>/link` exists, and its bytes are
 * `blobs/<alg>/<hex[0:2]>/<hex>/data`. Anything missing (never linked, deleted
 * from the repository, collected) answers null and the caller asks distribution.
 * Names and digests were validated before (no "..", hex only).
 */
export interface DiskBlob {
  fd: fs.promises.FileHandle;
  size: number;
}

export async function openLinkedBlob(root: string, storeName: string, digest: string): Promise<DiskBlob | null> {
  const [alg = "", hex = ""] = digest.split(":");
  try {
    await fs.promises.access(path.join(root, "repositories", storeName, "_layers", alg, hex, "link"));
    const fd = await fs.promises.open(path.join(root, "blobs", alg, hex.slice(0, 2), hex, "data"), "r");
    try {
      const { size } = await fd.stat();
      return { fd, size };
    } catch (e) {
      await fd.close();
      throw e;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    throw e;
  }
}

const READ_CHUNK = 1024 * 1024;

/** Status, headers and byte span of a blob's GET/HEAD with at most one Range (416 as a ProxyError), wherever its bytes are. */
export function blobAnswer(digest: string, size: number, rangeHeader: string | undefined) {
  const range = rangeHeader ? parseRange(rangeHeader, size) : null;
  if (range?.kind === "unsatisfiable") {
    throw new ProxyError(416, "BLOB_UNKNOWN", `The range is outside the blob (${size} bytes).`, { "content-range": `bytes */${size}` });
  }
  const start = range ? range.start : 0;
  const end = range ? range.end : size - 1;
  const length = size === 0 ? 0 : end - start + 1;
  const headers: Record<string, string> = {
    ...API_VERSION_HEADER,
    "content-type": "application/octet-stream",
    "docker-content-digest": digest,
    etag: `"${digest}"`,
    "accept-ranges": "bytes",
    "content-length": String(length),
    ...(range ? { "content-range": `bytes ${start}-${end}/${size}` } : {}),
  };
  return { status: range ? 206 : 200, headers, start, end, length };
}

/** Answers GET/HEAD (with one Range) from an open blob; closes it. Counts the bytes sent. */
export async function sendDiskBlob(res: ServerResponse, method: string, blob: DiskBlob, digest: string, rangeHeader: string | undefined, onBytes: (n: number) => void): Promise<void> {
  const { fd, size } = blob;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    void fd.close().catch(() => undefined);
  };
  try {
    const { status, headers, start, end, length } = blobAnswer(digest, size, rangeHeader);
    res.writeHead(status, headers);
    if (method === "HEAD" || length === 0) {
      res.end();
      return;
    }
    const stream = fs.createReadStream("", { fd, start, end, highWaterMark: READ_CHUNK, autoClose: false });
    stream.on("data", (c) => onBytes(c.length));
    await pipeline(stream, res).catch((e: unknown) => {
      if (!res.destroyed || (e as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") log.warn("registry blob read cut short", { error: e instanceof Error ? e.message : String(e) });
      res.destroy();
    });
  } finally {
    close();
  }
}
