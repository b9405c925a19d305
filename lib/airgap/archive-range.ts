import "server-only";
import { parseRange } from "@/lib/proxy/range";

/**
 * Which bytes of an archive of `size` bytes to answer a download with, and the
 * headers saying so. `Range` is parsed by lib/proxy/range.ts as for blobs (one
 * range; anything else sends the whole). `If-Range` with another ETag than the
 * archive's also sends the whole: a resume against a changed bundle (a release
 * edited since the first part) must not splice two archives together.
 */
export type ArchiveRange =
  | { status: 200 | 206; start: number; end: number; headers: Record<string, string> }
  | { status: 416; headers: Record<string, string> };

export function archiveRange(
  size: number,
  request: { range?: string | null; ifRange?: string | null; etag?: string },
): ArchiveRange {
  const stale = request.ifRange != null && request.ifRange !== request.etag;
  const range = request.range && !stale ? parseRange(request.range, size) : null;
  if (range?.kind === "unsatisfiable") return { status: 416, headers: { "content-range": `bytes */${size}` } };
  const start = range ? range.start : 0;
  const end = range ? range.end : size - 1;
  return {
    status: range ? 206 : 200,
    start,
    end,
    headers: {
      "accept-ranges": "bytes",
      "content-length": String(end - start + 1),
      ...(range ? { "content-range": `bytes ${start}-${end}/${size}` } : {}),
    },
  };
}
