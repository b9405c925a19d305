import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { archiveSize, planArchive, streamArchive, streamRange, TarContentError, type TarEntry, type TarFile } from "./tar-archive";
import { collect, memoryFile, randomEntries, seeded, type MemoryFile } from "./test-entries";

/** Every offset where a header, content, padding or the trailer starts or ends, and its neighbours. */
function boundaries(entries: TarEntry[]): number[] {
  const points = new Set<number>();
  for (let i = 0; i <= entries.length; i++) {
    const start = archiveSize(entries.slice(0, i)) - 1024;
    const entry = entries[i];
    const marks = [start];
    if (entry && entry.type !== "directory") {
      const afterPadding = archiveSize(entries.slice(0, i + 1)) - 1024;
      const paddingLength = (512 - (entry.size % 512)) % 512;
      const contentStart = afterPadding - paddingLength - entry.size;
      marks.push(contentStart, contentStart + entry.size, afterPadding);
    }
    for (const m of marks) for (const d of [-1, 0, 1]) points.add(m + d);
  }
  const size = archiveSize(entries);
  points.add(size - 1025).add(size - 513).add(size - 512).add(size - 1);
  return [...points].filter((p) => p >= 0 && p < size).sort((a, b) => a - b);
}

describe("streamRange", () => {
  const entries = randomEntries(5);
  const size = archiveSize(entries);
  const whole = collect(streamArchive(entries));

  it("gives exactly the slice of the whole archive for ranges starting or ending on every boundary", async () => {
    const full = await whole;
    const random = seeded(9);
    const points = boundaries(entries);
    expect(points.length).toBeGreaterThan(100);
    for (const p of points) {
      const other = Math.floor(random() * size);
      for (const [s, e] of [[p, p], [Math.min(p, other), Math.max(p, other)], [p, Math.min(size - 1, p + 700)]] as const) {
        const part = await collect(streamRange(entries, s, e));
        expect(part.equals(full.subarray(s, e + 1)), `bytes ${s}-${e}`).toBe(true);
      }
    }
  });

  it("gives exactly the slice of the whole archive for random ranges, and two halves join into the whole", async () => {
    const full = await whole;
    const random = seeded(10);
    for (let i = 0; i < 200; i++) {
      const a = Math.floor(random() * size);
      const b = Math.floor(random() * size);
      const [s, e] = a <= b ? [a, b] : [b, a];
      expect((await collect(streamRange(entries, s, e))).equals(full.subarray(s, e + 1)), `bytes ${s}-${e}`).toBe(true);
      // A download interrupted after byte a−1 and resumed with `Range: bytes=a-`.
      if (a > 0) {
        const joined = Buffer.concat([await collect(streamRange(entries, 0, a - 1)), await collect(streamRange(entries, a, size - 1))]);
        expect(joined.equals(full), `split at ${a}`).toBe(true);
      }
    }
  });

  it("opens only the entries whose content the range overlaps, with the overlapping slice", async () => {
    const a = memoryFile("a", Buffer.alloc(1000, 1));
    const b = memoryFile("b", Buffer.alloc(1000, 2));
    const c = memoryFile("c", Buffer.alloc(1000, 3));
    const files = [a, b, c];
    const reset = () => files.forEach((f) => f.opens.splice(0));
    // Layout: a header 0-511, content 512-1511, padding 1512-1535; b from 1536 (content 2048-3047); c from 3072 (content 3584-).
    await collect(streamRange(files, 0, 511));
    expect(files.map((f) => f.opens)).toEqual([[], [], []]);
    reset();
    await collect(streamRange(files, 1400, 2600));
    expect(files.map((f) => f.opens)).toEqual([[[888, 999]], [[0, 552]], []]);
    reset();
    await collect(streamRange(files, 1512, 2047)); // a's padding and b's header: nothing to read
    expect(files.map((f) => f.opens)).toEqual([[], [], []]);
    reset();
    await collect(streamRange(files, 3584 + 10, archiveSize(files) - 1));
    expect(files.map((f) => f.opens)).toEqual([[], [], [[10, 999]]]);
  });

  it("plans once for many ranges, unmoved by later changes to the caller's array", async () => {
    const full = await whole;
    const list = [...entries];
    const archive = planArchive(list);
    list.reverse().pop();
    expect(archive.size).toBe(size);
    for (const [s, e] of [[0, size - 1], [size - 1500, size - 1], [3_000_000, 3_200_000]] as const) {
      expect((await collect(archive.range(s, e))).equals(full.subarray(s, e + 1))).toBe(true);
    }
  });

  it("refuses a range outside the archive before streaming anything", () => {
    for (const [s, e] of [[-1, 10], [10, 9], [0, size], [size, size], [0.5, 10], [0, Number.NaN]]) {
      expect(() => streamRange(entries, s as number, e as number)).toThrow(RangeError);
    }
  });
});

describe("a content provider that breaks its promise", () => {
  const before = memoryFile("before", Buffer.alloc(700, 7));
  const provider = (path: string, size: number, yields: Buffer[]): TarFile => ({
    path,
    size,
    async *open() {
      yield* yields;
    },
  });

  it("fails the stream when it gives fewer bytes than the entry's size", async () => {
    const short = provider("blobs/short", 1000, [Buffer.alloc(600), Buffer.alloc(399)]);
    await expect(collect(streamArchive([before, short]))).rejects.toThrow(
      new TarContentError("blobs/short", "its content provider ended after 999 of the 1000 bytes asked for (bytes 0-999 of 1000)"),
    );
  });

  it("fails the stream when it gives more, without emitting a byte past the entry's size", async () => {
    const long = provider("blobs/long", 1000, [Buffer.alloc(600, 1), Buffer.alloc(401, 1)]);
    const got: Buffer[] = [];
    const consume = async () => {
      for await (const part of streamArchive([before, long])) got.push(part);
    };
    await expect(consume()).rejects.toThrow(/"blobs\/long": its content provider gave more than the 1000 bytes asked for/);
    // `before` (512 + 700 + padding 324) and long's header (512), then only the 600 bytes that were in bounds.
    expect(Buffer.concat(got).length).toBe(1536 + 512 + 600);
  });

  it("fails the stream when a range's slice is short, naming the slice", async () => {
    const short = provider("s", 1000, [Buffer.alloc(10)]);
    await expect(collect(streamRange([short], 600, 700))).rejects.toThrow(/ended after 10 of the 101 bytes asked for \(bytes 88-188 of 1000\)/);
  });

  it("carries the provider's own error as the cause", async () => {
    const boom = new Error("disk gone");
    const failing: TarFile = {
      path: "f",
      size: 10,
      async *open() {
        yield Buffer.alloc(4);
        throw boom;
      },
    };
    const error = await collect(streamArchive([failing])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TarContentError);
    expect((error as Error).message).toContain("reading its content failed after 4 of 10 bytes");
    expect((error as Error).cause).toBe(boom);
    const unopenable: TarFile = { path: "g", size: 1, open: () => Promise.reject(boom) };
    await expect(collect(streamArchive([unopenable]))).rejects.toMatchObject({ name: "TarContentError", cause: boom });
  });

  it("refuses strings in place of bytes", async () => {
    const text = { path: "t", size: 2, open: () => Readable.from(["ab"]) } as TarFile;
    await expect(collect(streamArchive([text]))).rejects.toThrow(/yielded something other than bytes/);
  });
});

describe("a file-backed entry (a Readable, as the cache gives)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-airgap-range-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const content = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
  const file = path.join(dir, "blob");
  fs.writeFileSync(file, content);
  const streams: fs.ReadStream[] = [];
  const fromDisk: TarFile = {
    path: "blobs/sha256/disk",
    size: content.length,
    open: (start, end) => {
      const stream = fs.createReadStream(file, { start, end, highWaterMark: 16 * 1024 });
      streams.push(stream);
      return stream;
    },
  };

  it("streams the slice read from disk", async () => {
    const memory: MemoryFile = memoryFile(fromDisk.path, content);
    const expected = await collect(streamArchive([memory]));
    expect((await collect(streamRange([fromDisk], 100_000, 200_000))).equals(expected.subarray(100_000, 200_001))).toBe(true);
  });

  it("destroys the Readable when the consumer stops early (a client that hung up)", async () => {
    streams.splice(0);
    for await (const part of streamArchive([fromDisk])) {
      if (part.length > 0 && streams.length > 0) break;
    }
    expect(streams).toHaveLength(1);
    expect(streams[0]?.destroyed).toBe(true);
  });
});

describe("entries", () => {
  it("refuses paths that would escape or confuse an extraction, and impossible sizes and modes", () => {
    const file = (p: string, size = 0, mode?: number): TarFile => ({ path: p, size, mode, open: () => Readable.from([]) });
    for (const bad of ["", "/etc/passwd", "../up", "a/../../b", "a//b", "a/", "./a", "a\nb", "a\u0000b", "é".repeat(2049)]) {
      expect(() => archiveSize([file(bad)]), JSON.stringify(bad)).toThrow(TypeError);
    }
    expect(() => archiveSize([file("a", -1)])).toThrow(/size/);
    expect(() => archiveSize([file("a", 1.5)])).toThrow(/size/);
    expect(() => archiveSize([file("a", 0, 0o10000)])).toThrow(/mode/);
  });
});
