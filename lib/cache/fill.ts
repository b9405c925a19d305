import crypto from "node:crypto";
import { EventEmitter } from "node:events";
import fs from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { log } from "@/lib/log";
import type { ContentStore } from "./store";

/**
 * One upstream fetch of one blob, written to a temp file as it arrives and
 * read back by every client that wants it, each at its own pace ("stream
 * while filling"). The fill does not belong to any client: a client that goes
 * away stops only its own reader. When the last byte is in, the sha256 is
 * checked and only then is the file renamed into the store.
 *
 * A digest mismatch is never served: readers are held one byte short of the
 * end until the fill is verified, so on a mismatch every client gets a cut
 * response (shorter than its Content-Length) and no client can take the
 * content for complete.
 */
/** A reader that caught up with its fill waits for this much more (or the end) before reading again. */
const BATCH_BYTES = 128 * 1024;
/**
 * A fill nobody reads any more is finished when it is at most this large (the
 * next pull is then a hit), and stopped otherwise: a client that reads 1 MB of
 * an endless or huge blob and leaves must not leave the disk writing for it.
 */
export const ORPHAN_FINISH_BYTES = 64 * 1024 * 1024;
/** How long an orphaned fill waits for a client to come back (a retry joins it) before it stops; tests shorten it. */
export const fillTuning = { orphanGraceMs: 5_000 };
/** Room reserved against the cache's limit ahead of a fill of unknown length, grown as it arrives. */
const RESERVE_STEP = 8 * 1024 * 1024;

export class DigestMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`the upstream sent content that does not match ${expected}`);
    this.name = "DigestMismatchError";
  }
}

export class FillTooLargeError extends Error {
  constructor(
    readonly limit: number,
    announced: boolean,
  ) {
    super(announced ? `the upstream sent more than the ${limit} bytes it announced` : `the upstream sent more than ${limit} bytes, the most one cached blob may have`);
    this.name = "FillTooLargeError";
  }
}

/** Fills in progress already hold the whole cache: this one stops. */
export class CacheFullError extends Error {
  constructor(written: number) {
    super(`the cache has no room left for fills in progress (stopped after ${written} bytes)`);
    this.name = "CacheFullError";
  }
}

/** Every client left a fill too large to finish for nobody. */
export class FillAbandonedError extends Error {
  constructor(written: number) {
    super(`no client is reading this blob any more; stopped after ${written} bytes`);
    this.name = "FillAbandonedError";
  }
}

export interface FillOptions {
  store: ContentStore;
  digest: string;
  /** From the upstream's Content-Length; null when it sent none. */
  expectedSize: number | null;
  /** The most bytes a fill may write, whatever the upstream announced (half the cache). */
  maxBytes: number;
  /** Called with the bytes fetched once the fill is verified and in place. */
  onComplete?: (size: number) => void;
  /** Grace before an orphaned fill stops (default fillTuning.orphanGraceMs). */
  orphanGraceMs?: number;
  /** Room already reserved for this fill in the store (released when it ends). */
  reservation?: { bytes: number; release: () => void };
}

export class Fill extends EventEmitter {
  readonly digest: string;
  readonly expectedSize: number | null;
  written = 0;
  done = false;
  error: Error | null = null;
  readonly finished: Promise<void>;
  private readonly store: ContentStore;
  private readonly temp: string;
  private fh: FileHandle | null = null;
  private refs = 1; // the fill itself; each reader adds one
  private readers = 0;
  private everRead = false;
  private orphanTimer: NodeJS.Timeout | null = null;
  private readonly opened: Promise<FileHandle>;

  constructor(
    private readonly body: AsyncIterable<Buffer> & { destroy(error?: Error): void },
    private readonly options: FillOptions,
  ) {
    super();
    this.setMaxListeners(0);
    this.store = options.store;
    this.digest = options.digest;
    this.expectedSize = options.expectedSize;
    this.temp = this.store.tempPath();
    this.opened = fs.open(this.temp, "w+", 0o600).then((fh) => (this.fh = fh));
    this.finished = this.run(body);
  }

  /** Bytes a reader may have now: all of them once verified, else one short of the end. */
  available(): number {
    if (this.done) return this.written;
    if (this.expectedSize !== null && this.written < this.expectedSize) return this.written;
    return Math.max(0, this.written - 1);
  }

  /**
   * A cursor over [start, end) of the blob as the bytes arrive: `read(buf)`
   * fills `buf` from the file (waiting for the fill when it is ahead of it),
   * returns 0 at the end, and throws when the fill fails (upstream cut,
   * digest mismatch), so the response is cut. `close()` must be called once.
   */
  cursor(start = 0, end: number | null = null): { read(buf: Buffer): Promise<number>; close(): void } {
    this.refs++;
    this.readers++;
    this.everRead = true;
    if (this.orphanTimer) clearTimeout(this.orphanTimer);
    this.orphanTimer = null;
    let pos = start;
    let closed = false;
    return {
      read: async (buf: Buffer) => {
        const fh = await this.opened;
        for (;;) {
          if (closed) return 0;
          if (this.error) throw this.error;
          const limit = end ?? (this.done ? this.written : Infinity);
          if (pos >= limit) return 0;
          const avail = Math.min(this.available(), limit);
          // Caught up with the fill: wait for a worthwhile batch (or the end) rather than
          // waking for every upstream chunk; with 32 clients on one fill that is most of the work.
          const batch = Math.min(buf.length, BATCH_BYTES);
          if (pos < avail && (avail - pos >= batch || avail >= limit || this.done || this.available() >= (this.expectedSize ?? Infinity) - 1)) {
            const { bytesRead } = await fh.read(buf, 0, Math.min(avail - pos, buf.length), pos);
            if (bytesRead === 0) throw new Error("cache fill file shorter than written");
            pos += bytesRead;
            return bytesRead;
          }
          await new Promise<void>((resolve) => this.once("progress", resolve));
        }
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.readers--;
        this.checkOrphaned();
        this.unref();
      },
    };
  }

  /** Readers reading now (tests and diagnostics). */
  get readerCount(): number {
    return this.readers;
  }

  /**
   * With no reader left, a fill larger than ORPHAN_FINISH_BYTES (announced, or
   * written so far when nothing was announced) stops after a grace period in
   * which a returning client may join it.
   */
  private checkOrphaned(): void {
    if (this.readers > 0 || !this.everRead || this.done || this.error || this.orphanTimer) return;
    if ((this.expectedSize ?? this.written) <= ORPHAN_FINISH_BYTES) return;
    this.orphanTimer = setTimeout(() => {
      this.orphanTimer = null;
      if (this.readers > 0 || this.done || this.error) return;
      const e = new FillAbandonedError(this.written);
      log.info("cache fill stopped: no client left", { digest: this.digest, bytes: this.written, announced: this.expectedSize });
      this.body.destroy(e);
    }, this.options.orphanGraceMs ?? fillTuning.orphanGraceMs);
    this.orphanTimer.unref();
  }

  private unref(): void {
    this.refs--;
    if (this.refs === 0) void this.opened.then((fh) => fh.close()).catch(() => undefined);
  }

  private async run(body: AsyncIterable<Buffer> & { destroy(error?: Error): void }): Promise<void> {
    const hash = crypto.createHash("sha256");
    // Counted against the cache's limit from the start, and grown with the bytes when no length was
    // announced; fills in progress never hold more than the whole cache (ContentStore.tryReserve).
    const first = this.options.reservation ?? { bytes: this.expectedSize ?? RESERVE_STEP, release: this.store.reserve(this.expectedSize ?? RESERVE_STEP) };
    const releases = [first.release];
    let reserved = first.bytes;
    const limit = Math.min(this.expectedSize ?? Infinity, this.options.maxBytes);
    try {
      const fh = await this.opened;
      for await (const chunk of body) {
        // Counted here, whatever the headers said: an upstream cannot write past the limit.
        if (this.written + chunk.length > limit) {
          const e = new FillTooLargeError(limit, this.expectedSize !== null && this.expectedSize <= this.options.maxBytes);
          body.destroy(e);
          throw e;
        }
        await fh.write(chunk, 0, chunk.length, this.written);
        hash.update(chunk);
        this.written += chunk.length;
        if (this.written > reserved) {
          const more = this.store.tryReserve(RESERVE_STEP);
          if (!more) {
            const e = new CacheFullError(this.written);
            body.destroy(e);
            throw e;
          }
          releases.push(more);
          reserved += RESERVE_STEP;
        }
        if (this.readers === 0 && this.expectedSize === null) this.checkOrphaned();
        this.emit("progress");
      }
      const actual = `sha256:${hash.digest("hex")}`;
      if (this.expectedSize !== null && this.written !== this.expectedSize) throw new Error(`the upstream sent ${this.written} of ${this.expectedSize} bytes`);
      if (actual !== this.digest) {
        log.error("upstream blob does not match its digest; not cached, not served", { digest: this.digest, actual, bytes: this.written });
        throw new DigestMismatchError(this.digest, actual);
      }
      // No fsync: after a crash, files are hashed again before they are served (ContentStore.open).
      await this.store.commit(this.digest, this.temp, this.written);
      this.done = true;
      try {
        this.options.onComplete?.(this.written);
      } catch (e) {
        log.error("cache fill completion hook failed", { error: e, digest: this.digest });
      }
    } catch (e) {
      this.error = e instanceof Error ? e : new Error(String(e));
      await fs.rm(this.temp, { force: true });
    } finally {
      for (const release of releases) release();
      if (this.orphanTimer) clearTimeout(this.orphanTimer);
      this.orphanTimer = null;
      this.emit("progress");
      this.unref();
    }
  }
}
