import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TarEntry, TarFile } from "./tar-archive";

/** Entries and readers for the archive tests: content in memory, read back by GNU tar. */

/** mulberry32: a seeded generator, so a failing random case can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function bytes(random: () => number, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
}

export interface MemoryFile extends TarFile {
  content: Buffer;
  /** Every slice asked of this entry, in order. */
  opens: Array<[number, number]>;
}

/** A file whose provider yields the asked slice in chunks of `chunk` bytes (chunk boundaries cross blocks). */
export function memoryFile(filePath: string, content: Buffer, options: { mode?: number; chunk?: number } = {}): MemoryFile {
  const chunk = options.chunk ?? 1000;
  const opens: Array<[number, number]> = [];
  return {
    path: filePath,
    size: content.length,
    mode: options.mode,
    content,
    opens,
    async *open(start, end) {
      opens.push([start, end]);
      for (let at = start; at <= end; at += chunk) yield content.subarray(at, Math.min(end + 1, at + chunk));
    },
  };
}

export async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts);
}

/**
 * A random entry set around the block boundaries (0, 1, 511, 512, 513 bytes),
 * with a large-ish file, names of exactly 100 bytes, names that need the ustar
 * prefix, names that need pax (one long segment, non-ASCII), directories and a script.
 */
export function randomEntries(seed: number): TarEntry[] {
  const random = seeded(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const sizes = [0, 1, 511, 512, 513, 1023, 1024, 1025, 3 * 1024 * 1024 + 7, Math.floor(random() * 200_000)];
  const entries: TarEntry[] = [{ type: "directory", path: "blobs" }, { type: "directory", path: "blobs/sha256" }];
  sizes.forEach((size, i) => {
    const hex = bytes(random, 32).toString("hex");
    // One-byte chunks cross every boundary, but on megabytes they only cost time.
    const chunk = pick(size > 10_000 ? [512, 4096, 7919, 65536] : [1, 7, 512, 4096]);
    entries.push(memoryFile(`blobs/sha256/${i}-${hex}`, bytes(random, size), { chunk }));
  });
  const long = (n: number) => "x".repeat(n);
  entries.push(
    memoryFile(long(100), bytes(random, 3)),
    memoryFile(`${long(120)}/${long(90)}`, bytes(random, 600)),
    memoryFile(`deep/${long(140)}`, bytes(random, 513)),
    memoryFile(`charts/${"ü".repeat(30)}-${seed}.tgz`, bytes(random, 1500), { chunk: 333 }),
    { type: "directory", path: `dir-${long(130)}` },
    memoryFile("push.sh", Buffer.from("#!/bin/sh\necho pushed\n"), { mode: 0o755 }),
  );
  return entries;
}

export interface Extracted {
  /** stdout of `tar -tv --numeric-owner --full-time --utc`, one line an entry. */
  listing: string[];
  /** The extracted tree. */
  dir: string;
  /** Removes the temporary files. */
  cleanup: () => void;
  /** What tar said on stderr (a warning is a defect of the archive). */
  stderr: string;
}

/** Writes the archive to a temporary file, lists it and extracts it with GNU tar. */
export function gnuTarRead(archive: Buffer): Extracted {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-airgap-"));
  const file = path.join(work, "bundle.tar");
  const dir = path.join(work, "out");
  fs.writeFileSync(file, archive);
  fs.mkdirSync(dir);
  // Times in UTC and names as written whatever the locale: the listing is compared as text.
  const list = spawnSync("tar", ["-tv", "--numeric-owner", "--full-time", "--utc", "--quoting-style=literal", "-f", file], { encoding: "utf8" });
  const extract = spawnSync("tar", ["-x", "-f", file, "-C", dir], { encoding: "utf8" });
  const cleanup = () => fs.rmSync(work, { recursive: true, force: true });
  if (list.status !== 0 || extract.status !== 0) {
    cleanup();
    throw new Error(`tar failed: ${list.stderr}${extract.stderr}`);
  }
  return { listing: list.stdout.trimEnd().split("\n"), dir, stderr: list.stderr + extract.stderr, cleanup };
}
