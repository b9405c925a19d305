import "server-only";
import { BLOCK, checkHead, encodeHead, padding, type TarHead } from "./tar-headers";

/**
 * A virtual tar archive (POSIX ustar, pax where a name or a size needs it)
 * described by a list of entries whose content the caller produces lazily:
 * blobs read from the cache, files generated in memory. Its bytes are a pure
 * function of the entries (mtime 0, uid/gid 0, no user or group names, entries
 * in the order given), so its size is known before the first byte and any
 * range of it can be produced on its own: an HTTP server answers `Range`
 * requests and resumes a 20 GB download without a temporary file.
 *
 * Cost: planning is one pass over the entries (a few microseconds each) and
 * keeps one offset per entry; a range costs a binary search plus the entries
 * it touches; content is never buffered, only the chunk in flight is held.
 */

/** Content of one entry's bytes [start, end] (inclusive, as fs.createReadStream takes them). */
export type ContentSource = AsyncIterable<Uint8Array>;

export interface TarFile {
  type?: "file";
  path: string;
  size: number;
  /** 0o644 by default; 0o755 for scripts. */
  mode?: number;
  /**
   * Called only when the range streamed overlaps this entry's content, with
   * the overlapping slice (0 ≤ start ≤ end < size). Must yield exactly
   * end − start + 1 bytes; any other count fails the stream (TarContentError).
   * A Readable fits (it is an AsyncIterable of Buffers); it is destroyed when
   * the stream fails or its consumer stops early.
   */
  open(start: number, end: number): ContentSource | Promise<ContentSource>;
}

export interface TarDirectory {
  type: "directory";
  path: string;
  /** 0o755 by default. */
  mode?: number;
}

export type TarEntry = TarFile | TarDirectory;

/** An entry's content provider broke its promise: the archive stream stops rather than emit corrupt bytes. */
export class TarContentError extends Error {
  constructor(
    readonly path: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`tar entry ${JSON.stringify(path)}: ${detail}`, options);
    this.name = "TarContentError";
  }
}

const TRAILER = 2 * BLOCK;

function headOf(entry: TarEntry): TarHead {
  const head: TarHead =
    entry.type === "directory"
      ? { path: entry.path, type: "directory", size: 0, mode: entry.mode ?? 0o755 }
      : { path: entry.path, type: "file", size: entry.size, mode: entry.mode ?? 0o644 };
  checkHead(head);
  return head;
}

/**
 * An archive planned once: the offset of every entry (8 bytes each), so a
 * request locates the first entry of its range by binary search. Headers are
 * not kept but recomputed (a few microseconds) for the entries a range touches.
 * The entries are copied (the array, not the objects): later changes to the
 * caller's array do not move the offsets.
 */
export interface TarArchive {
  /** Length in bytes: headers, content padded to 512, and the two zero blocks that end the archive. */
  readonly size: number;
  /**
   * Bytes [start, end] (inclusive) of the archive, exactly. The range is checked
   * here, before the first byte (a RangeError), so a server can still answer 416;
   * content errors surface while streaming, as a TarContentError.
   */
  range(start: number, end: number): AsyncIterable<Buffer>;
}

export function planArchive(entries: readonly TarEntry[]): TarArchive {
  const list = [...entries];
  // offsets[i]: where entry i's header starts; offsets[n]: where the trailer starts.
  const offsets = new Float64Array(list.length + 1);
  let offset = 0;
  list.forEach((entry, i) => {
    const head = headOf(entry);
    offsets[i] = offset;
    offset += encodeHead(head).length + head.size + padding(head.size);
  });
  offsets[list.length] = offset;
  const size = offset + TRAILER;
  if (!Number.isSafeInteger(size)) throw new RangeError("The archive would be larger than 2^53 bytes.");
  return {
    size,
    range(start, end) {
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end >= size) {
        throw new RangeError(`Bytes ${start}-${end} are not within the archive's ${size} bytes.`);
      }
      return emit(list, offsets, start, end);
    },
  };
}

/** The archive's length in bytes, before any byte is produced (Content-Length). */
export function archiveSize(entries: readonly TarEntry[]): number {
  return planArchive(entries).size;
}

/** Bytes [start, end] (inclusive) of the archive; see TarArchive.range. */
export function streamRange(entries: readonly TarEntry[], start: number, end: number): AsyncIterable<Buffer> {
  return planArchive(entries).range(start, end);
}

/** Every byte of the archive. */
export function streamArchive(entries: readonly TarEntry[]): AsyncIterable<Buffer> {
  const archive = planArchive(entries);
  return archive.range(0, archive.size - 1);
}

/** The index of the entry holding byte `at` (list.length for the trailer). */
function entryAt(offsets: Float64Array, at: number): number {
  let low = 0;
  let high = offsets.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    if ((offsets[mid] as number) <= at) low = mid;
    else high = mid - 1;
  }
  return low;
}

async function* emit(list: readonly TarEntry[], offsets: Float64Array, start: number, end: number): AsyncGenerator<Buffer> {
  for (let i = entryAt(offsets, start); i < list.length; i++) {
    const entryStart = offsets[i] as number;
    const entryEnd = offsets[i + 1] as number;
    if (entryStart > end) return;
    const entry = list[i] as TarEntry;
    const head = headOf(entry);
    const header = encodeHead(head);
    const contentStart = entryStart + header.length;
    const contentEnd = contentStart + head.size;
    if (contentStart > start) {
      yield header.subarray(Math.max(0, start - entryStart), Math.min(header.length, end - entryStart + 1));
    }
    const from = Math.max(start, contentStart);
    const to = Math.min(end, contentEnd - 1);
    if (from <= to && entry.type !== "directory") yield* content(entry, from - contentStart, to - contentStart);
    const zerosFrom = Math.max(start, contentEnd);
    const zerosTo = Math.min(end, entryEnd - 1);
    if (zerosFrom <= zerosTo) yield Buffer.alloc(zerosTo - zerosFrom + 1);
  }
  const trailerFrom = Math.max(start, offsets[list.length] as number);
  if (trailerFrom <= end) yield Buffer.alloc(end - trailerFrom + 1);
}

async function* content(entry: TarFile, from: number, to: number): AsyncGenerator<Buffer> {
  const want = to - from + 1;
  const slice = `bytes ${from}-${to} of ${entry.size}`;
  let source: ContentSource;
  try {
    source = await entry.open(from, to);
  } catch (e) {
    throw new TarContentError(entry.path, `its content could not be opened (${slice})`, { cause: e });
  }
  // Iterated by hand, not with for-await, to tell the provider's own failures from a broken size promise.
  const iterator = source[Symbol.asyncIterator]();
  let got = 0;
  let finished = false;
  try {
    for (;;) {
      let step: IteratorResult<Uint8Array>;
      try {
        step = await iterator.next();
      } catch (e) {
        finished = true;
        throw new TarContentError(entry.path, `reading its content failed after ${got} of ${want} bytes (${slice})`, { cause: e });
      }
      if (step.done) break;
      const chunk = step.value;
      if (!(chunk instanceof Uint8Array)) throw new TarContentError(entry.path, "its content provider yielded something other than bytes");
      // Checked before yielding: bytes past the promised size never reach the archive.
      if (got + chunk.length > want) throw new TarContentError(entry.path, `its content provider gave more than the ${want} bytes asked for (${slice})`);
      got += chunk.length;
      if (chunk.length > 0) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    finished = true;
  } finally {
    // An error here or a consumer that stopped early: release the provider (a Readable is destroyed).
    if (!finished) {
      try {
        await iterator.return?.();
      } catch {
        // The provider failing while being closed changes nothing: the stream already ends here.
      }
    }
  }
  if (got < want) throw new TarContentError(entry.path, `its content provider ended after ${got} of the ${want} bytes asked for (${slice})`);
}
