import crypto from "node:crypto";
import fs from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { log } from "@/lib/log";
import { contentFiles } from "./disk-walk";
import { contentPath, contentRoot, digestOfPath, tmpDir } from "./layout";

/**
 * The content-addressed files of the proxy cache, with their in-memory index:
 * size, last use and open readers per digest. Nothing is put in place before
 * its sha256 matched (`commit` renames a verified temp file); a file whose
 * size or mtime changed since it was verified (written by someone else, or
 * left by an earlier process) is hashed again before it is served, and removed
 * when it no longer matches. Eviction is least-recently-used down to a
 * low-water mark and skips every file with an open reader.
 */
export interface StoreEntry {
  digest: string;
  size: number;
  lastUsed: number;
  readers: number;
  /** size and mtime when the content was last hashed and matched; null: not verified by this process. */
  verified: { size: number; mtimeMs: number } | null;
}

export interface OpenContent {
  fh: FileHandle;
  size: number;
  /** Must be called once the content is no longer read: closes the file and lets eviction have it. */
  release(): void;
}

export interface StoreOptions {
  dir: string;
  maxBytes: number;
  /** Evict down to this fraction of maxBytes (default 0.9). */
  lowWater?: number;
  /** Told about each evicted digest (after its file is gone). */
  onEvict?: (digest: string, size: number) => void;
  now?: () => number;
}

const TOUCH_EVERY_MS = 60_000;

export class ContentStore {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly lowWaterBytes: number;
  private readonly entries = new Map<string, StoreEntry>();
  private readonly verifying = new Map<string, Promise<boolean>>();
  private readonly touched = new Map<string, number>();
  private total = 0;
  private reserved = 0;
  private evicting: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(private readonly options: StoreOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.lowWaterBytes = Math.floor(options.maxBytes * (options.lowWater ?? 0.9));
    this.now = options.now ?? Date.now;
  }

  /** Bytes of content in place (not counting fills in progress). */
  get bytes(): number {
    return this.total;
  }

  get count(): number {
    return this.entries.size;
  }

  /**
   * Loads the index from the directory (last use = mtime, which `open` keeps
   * fresh) and removes temp files of fills an earlier process did not finish.
   * Files found here are unverified until first served.
   */
  async init(): Promise<void> {
    await fs.mkdir(tmpDir(this.dir), { recursive: true, mode: 0o700 });
    await fs.mkdir(contentRoot(this.dir), { recursive: true, mode: 0o700 });
    // Temp files of fills that died with their process. A live fill writes at least every
    // 30 s (the throughput floor), so an hour-old one is nobody's, even with replicas sharing the directory.
    for (const name of await fs.readdir(tmpDir(this.dir))) {
      const file = path.join(tmpDir(this.dir), name);
      const st = await fs.stat(file).catch(() => null);
      if (st && this.now() - st.mtimeMs > 3_600_000) await fs.rm(file, { force: true });
    }
    for await (const { file, size, mtimeMs } of contentFiles(contentRoot(this.dir))) {
      const digest = digestOfPath(file);
      if (!digest) continue;
      this.entries.set(digest, { digest, size, lastUsed: mtimeMs, readers: 0, verified: null });
      this.total += size;
    }
    await this.evictIfNeeded();
  }

  /** Whether the content is in place, as far as the index knows (no I/O; `open` is the check). */
  has(digest: string): boolean {
    return this.entries.has(digest);
  }

  sizeOf(digest: string): number | undefined {
    return this.entries.get(digest)?.size;
  }

  /**
   * Opens verified content for reading, or null when it is not in place (never
   * cached, evicted, purged by the CLI, or found corrupt and removed). The
   * caller must `release()` it.
   */
  async open(digest: string): Promise<OpenContent | null> {
    const file = contentPath(this.dir, digest);
    let fh: FileHandle;
    try {
      fh = await fs.open(file, "r");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      this.forget(digest);
      return null;
    }
    let entry = this.entries.get(digest);
    try {
      const st = await fh.stat();
      if (!entry) {
        // Put there by another process sharing the directory, or indexed away meanwhile.
        entry = { digest, size: st.size, lastUsed: this.now(), readers: 0, verified: null };
        this.entries.set(digest, entry);
        this.total += st.size;
      } else if (entry.size !== st.size) {
        this.total += st.size - entry.size;
        entry.size = st.size;
      }
      if (!entry.verified || entry.verified.size !== st.size || entry.verified.mtimeMs !== st.mtimeMs) {
        if (!(await this.verify(digest, fh))) {
          await fh.close();
          return null;
        }
        entry.verified = { size: st.size, mtimeMs: st.mtimeMs };
      }
      entry.readers++;
      entry.lastUsed = this.now();
      await this.touch(entry, fh);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
    const held = entry;
    let released = false;
    return {
      fh,
      size: held.size,
      release: () => {
        if (released) return;
        released = true;
        held.readers--;
        void fh.close().catch(() => undefined);
        if (held.readers === 0 && this.total + this.reserved > this.maxBytes) void this.evictIfNeeded();
      },
    };
  }

  /** Reads small content (manifests) whole; null when not in place. */
  async read(digest: string): Promise<Buffer | null> {
    const open = await this.open(digest);
    if (!open) return null;
    try {
      return await open.fh.readFile();
    } finally {
      open.release();
    }
  }

  /** A temp file for a fill, in the same filesystem as the content (so the rename is atomic). */
  tempPath(): string {
    return path.join(tmpDir(this.dir), `${crypto.randomBytes(12).toString("hex")}.part`);
  }

  /** Bytes reserved by fills in progress. */
  get reservedBytes(): number {
    return this.reserved;
  }

  /**
   * Reserves room for a fill in progress (counted against maxBytes by
   * eviction), unless fills in progress would then hold more than the whole
   * cache: null then. Content in place can be evicted to make room, a fill in
   * progress cannot, so this is what bounds the disk taken by fills.
   */
  tryReserve(bytes: number): (() => void) | null {
    if (this.reserved + bytes > this.maxBytes) return null;
    return this.reserve(bytes);
  }

  /** Reserves room for a fill in progress (counted against maxBytes by eviction). */
  reserve(bytes: number): () => void {
    this.reserved += bytes;
    let done = false;
    void this.evictIfNeeded();
    return () => {
      if (done) return;
      done = true;
      this.reserved -= bytes;
    };
  }

  /**
   * Puts a temp file whose sha256 the caller verified in place under its
   * digest. When the digest is already there (a parallel fill of another
   * repository) the temp file is dropped: the content is the same.
   */
  async commit(digest: string, tempFile: string, size: number): Promise<void> {
    const file = contentPath(this.dir, digest);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    if (this.entries.has(digest)) {
      if (await fs.stat(file).then((st) => st.isFile(), () => false)) {
        await fs.rm(tempFile, { force: true });
        return;
      }
      this.forget(digest); // indexed, but removed behind our back (a purge from the CLI): put it back
    }
    await fs.rename(tempFile, file);
    const st = await fs.stat(file);
    this.entries.set(digest, { digest, size, lastUsed: this.now(), readers: 0, verified: { size: st.size, mtimeMs: st.mtimeMs } });
    this.total += size;
    await this.evictIfNeeded();
  }

  /** Writes small content (a manifest) whose digest the caller verified. */
  async put(digest: string, body: Buffer): Promise<void> {
    const temp = this.tempPath();
    await fs.writeFile(temp, body, { mode: 0o600 });
    await this.commit(digest, temp, body.length);
  }

  /** Removes content (purge, corruption); a reader holding it open keeps reading the unlinked file. */
  async remove(digest: string): Promise<void> {
    await fs.rm(contentPath(this.dir, digest), { force: true });
    this.forget(digest);
  }

  /** Evicts least-recently-used content without readers until below the low-water mark. */
  evictIfNeeded(): Promise<void> {
    if (this.total + this.reserved <= this.maxBytes) return Promise.resolve();
    this.evicting ??= this.evictLru().finally(() => {
      this.evicting = null;
    });
    return this.evicting;
  }

  private async evictLru(): Promise<void> {
    const candidates = [...this.entries.values()].filter((e) => e.readers === 0).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const entry of candidates) {
      if (this.total + this.reserved <= this.lowWaterBytes) break;
      if (entry.readers > 0 || this.entries.get(entry.digest) !== entry) continue; // opened or replaced meanwhile
      this.forget(entry.digest);
      await fs.rm(contentPath(this.dir, entry.digest), { force: true });
      this.options.onEvict?.(entry.digest, entry.size);
    }
  }

  private forget(digest: string): void {
    const entry = this.entries.get(digest);
    if (!entry) return;
    this.entries.delete(digest);
    this.total -= entry.size;
  }

  /** Hashes content once however many requests ask at the same moment; a mismatch removes the file. */
  private verify(digest: string, fh: FileHandle): Promise<boolean> {
    let pending = this.verifying.get(digest);
    if (!pending) {
      pending = hashHandle(fh)
        .then(async (actual) => {
          if (actual === digest) return true;
          log.error("cache file does not match its digest; removed, it will be fetched again", { digest, actual });
          await this.remove(digest);
          return false;
        })
        .finally(() => this.verifying.delete(digest));
      this.verifying.set(digest, pending);
    }
    return pending;
  }

  /** Keeps the file's mtime near its last use (at most once a minute), so LRU order survives a restart. */
  private async touch(entry: StoreEntry, fh: FileHandle): Promise<void> {
    const last = this.touched.get(entry.digest) ?? entry.verified?.mtimeMs ?? 0;
    const now = this.now();
    if (now - last < TOUCH_EVERY_MS) return;
    this.touched.set(entry.digest, now);
    if (this.touched.size > 100_000) this.touched.clear();
    try {
      await fh.utimes(new Date(now), new Date(now));
      const st = await fh.stat();
      if (entry.verified && entry.verified.size === st.size) entry.verified = { size: st.size, mtimeMs: st.mtimeMs };
    } catch {
      // Touching is best effort: a read-only cache still serves.
    }
  }
}

/** sha256:<hex> of a file's content, streamed through (no whole-file buffer). */
export async function hashHandle(fh: FileHandle): Promise<string> {
  const hash = crypto.createHash("sha256");
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let pos = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return `sha256:${hash.digest("hex")}`;
}
