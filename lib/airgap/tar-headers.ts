import "server-only";
import * as ustar from "tar-stream/headers";

/**
 * The header bytes of one entry of the air-gap archive, computed from its
 * path, size and mode alone (never read from content), so that any byte
 * range of the archive can be produced without reading what comes before it.
 *
 * Why tar-stream's codec (headers.encode / encodePax of the pinned 2.2.0)
 * and not its packer nor our own writer: the codec is the field's tested ustar
 * layout (octal fields, checksum, 155+100 prefix split, pax record lengths),
 * while `pack()` writes sequentially, cannot start mid-archive, names every pax
 * header "PaxHeader" and silently writes 77777777777 as the size of an entry
 * of 8 GiB or more. Around the codec this module adds what `pack()` gets
 * wrong for us: a pax `size` record from 8 GiB, a pax `path` for long or
 * non-ASCII names, and readable fallback names in the ustar fields.
 *
 * The bytes must never change across Gantry versions (a 20 GB download
 * resumed with Range can span a deploy; the ETag promises the same bytes):
 * tar-stream is pinned exactly and tar-archive.test.ts checks a golden digest.
 */

export const BLOCK = 512;
/** The largest size an 11-digit octal ustar field holds: 8 GiB − 1. */
export const USTAR_MAX_SIZE = 0o77777777777;
/** Linux's PATH_MAX: a longer path cannot be extracted anywhere. */
export const MAX_PATH_BYTES = 4096;

const EPOCH = new Date(0);
const CONTROL = /[\u0000-\u001f\u007f]/;
const NOT_PRINTABLE_ASCII = /[^\u0020-\u007e]/g;

export interface TarHead {
  /** Relative, `/`-separated, without `.`/`..`/empty segments or a trailing slash. */
  path: string;
  type: "file" | "directory";
  size: number;
  mode: number;
}

/** Bytes of padding after `size` bytes of content, up to the next block. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Throws a TypeError naming what is wrong with an entry; hostile paths never reach a header. */
export function checkHead(head: TarHead): void {
  const { path, size, mode, type } = head;
  const bad = (why: string) => new TypeError(`tar entry ${JSON.stringify(path)}: ${why}`);
  if (typeof path !== "string" || path === "") throw bad("the path is empty");
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw bad(`the path is over ${MAX_PATH_BYTES} bytes`);
  if (CONTROL.test(path)) throw bad("the path holds a control character");
  for (const segment of path.split("/")) {
    if (segment === "" || segment === "." || segment === "..") throw bad("the path must be relative, without empty, . or .. segments");
  }
  if (!Number.isSafeInteger(size) || size < 0) throw bad("the size must be a whole number of bytes");
  if (type === "directory" && size !== 0) throw bad("a directory has no content");
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw bad("the mode must be within 0o7777");
}

function block(name: string, size: number, mode: number, type: ustar.HeaderFields["type"]): Buffer | null {
  const encoded = ustar.encode({ name, size, mode, type, mtime: EPOCH, uid: 0, gid: 0, uname: "", gname: "", devmajor: 0, devminor: 0 });
  // tar-stream splits a long directory name at its trailing slash, leaving the name field empty:
  // valid by the letter of POSIX, refused by stricter readers (Go's archive/tar never writes it). pax instead.
  return encoded && encoded[0] !== 0 ? encoded : null;
}

/** What a reader without pax support sees: the name in printable ASCII, cut to fit. */
function fallbackName(name: string, size: number, mode: number, type: TarHead["type"]): Buffer {
  const ascii = name.replace(NOT_PRINTABLE_ASCII, "_");
  return block(ascii, size, mode, type) ?? (block(ascii.slice(0, 100), size, mode, type) as Buffer);
}

/** `PaxHeaders.0/<base name>`, as Go's archive/tar names them: no pid, no time, so deterministic. */
function paxHeaderName(name: string): string {
  const base = name.replace(/\/$/, "").split("/").pop() ?? "";
  return `PaxHeaders.0/${base}`.replace(NOT_PRINTABLE_ASCII, "_").slice(0, 100);
}

/**
 * The entry's header bytes: one ustar block, or a pax extended header
 * (`x` block + records padded to a block) followed by the ustar block.
 * Directories get the trailing `/` readers expect.
 */
export function encodeHead(head: TarHead): Buffer {
  const name = head.type === "directory" ? `${head.path}/` : head.path;
  const plain = block(name, head.size, head.mode, head.type);
  const largeSize = head.size > USTAR_MAX_SIZE;
  if (plain && !largeSize) return plain;
  const records = ustar.encodePax({
    name: plain ? undefined : name,
    pax: largeSize ? { size: String(head.size) } : undefined,
  });
  const paxBlock = block(paxHeaderName(name), records.length, 0o644, "pax-header") as Buffer;
  // With a pax size the ustar size field is only a placeholder (tar-stream writes all sevens there).
  const main = plain ?? fallbackName(name, head.size, head.mode, head.type);
  return Buffer.concat([paxBlock, records, Buffer.alloc(padding(records.length)), main]);
}
