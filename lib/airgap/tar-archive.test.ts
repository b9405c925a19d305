import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as tar from "tar-stream";
import { describe, expect, it } from "vitest";
import { archiveSize, streamArchive, type TarEntry } from "./tar-archive";
import { bytes, collect, gnuTarRead, memoryFile, randomEntries, seeded } from "./test-entries";

const pad = (n: number) => Math.ceil(n / 512) * 512;

describe("the archive, read back by GNU tar", () => {
  for (const seed of [1, 2, 3]) {
    it(`extracts every entry of random set ${seed} with its name, content and mode`, async () => {
      const entries = randomEntries(seed);
      const archive = await collect(streamArchive(entries));
      expect(archive.length).toBe(archiveSize(entries));
      const read = gnuTarRead(archive);
      try {
        expect(read.stderr).toBe("");
        // In the order given, owned by 0/0, dated 1970-01-01, with the modes asked for.
        const listed = read.listing.map((line) => {
          const [perms, owner, size, date, time, ...name] = line.split(/\s+/);
          return { perms, owner, size: Number(size), stamp: `${date} ${time}`, name: name.join(" ") };
        });
        expect(listed.map((l) => l.name)).toEqual(entries.map((e) => (e.type === "directory" ? `${e.path}/` : e.path)));
        for (const [i, entry] of entries.entries()) {
          const l = listed[i];
          expect(l?.owner).toBe("0/0");
          expect(l?.stamp).toBe("1970-01-01 00:00:00");
          if (entry.type === "directory") {
            expect(l?.perms).toBe("drwxr-xr-x");
            expect(fs.statSync(path.join(read.dir, entry.path)).isDirectory()).toBe(true);
            continue;
          }
          expect(l?.perms).toBe(entry.mode === 0o755 ? "-rwxr-xr-x" : "-rw-r--r--");
          expect(l?.size).toBe(entry.size);
          const onDisk = path.join(read.dir, entry.path);
          expect(fs.readFileSync(onDisk).equals((entry as ReturnType<typeof memoryFile>).content), entry.path).toBe(true);
          expect(fs.statSync(onDisk).mode & 0o777).toBe(entry.mode ?? 0o644);
        }
      } finally {
        read.cleanup();
      }
    });
  }

  it("writes pax only where ustar cannot hold the name, with readable fallback names", async () => {
    const entries = randomEntries(7);
    const archive = await collect(streamArchive(entries));
    const paxNames: string[] = [];
    const extract = tar.extract();
    const names: string[] = [];
    // tar-stream 2.2.0 reads pax path records: the names it sees are the full ones.
    extract.on("entry", (header, stream, next) => {
      names.push(header.name);
      stream.on("end", () => next());
      stream.resume();
    });
    const done = new Promise<void>((resolve, reject) => {
      extract.on("finish", resolve);
      extract.on("error", reject);
    });
    extract.end(archive);
    await done;
    expect(names).toEqual(entries.map((e) => (e.type === "directory" ? `${e.path}/` : e.path)));
    // The raw typeflags: an `x` block precedes exactly the entries whose name does not fit ustar.
    let offset = 0;
    while (offset < archive.length - 1024) {
      const flag = String.fromCharCode(archive[offset + 156] ?? 0);
      const name = archive.subarray(offset, offset + 100).toString("latin1").replace(/\0.*$/s, "");
      const size = parseInt(archive.subarray(offset + 124, offset + 136).toString("latin1"), 8);
      if (flag === "x") paxNames.push(name);
      else expect(name).toMatch(/^[\x20-\x7e]+$/);
      offset += 512 + pad(size);
    }
    expect(paxNames).toEqual([
      `PaxHeaders.0/${"x".repeat(87)}`,
      `PaxHeaders.0/${"_".repeat(30)}-7.tgz`,
      `PaxHeaders.0/dir-${"x".repeat(83)}`,
    ]);
  });
});

describe("the archive's bytes", () => {
  it("are those of tar-stream's own packer for plain ustar files (the codec is the library's)", async () => {
    const random = seeded(11);
    const files = [0, 1, 511, 512, 513, 70_000].map((size, i) => memoryFile(`f/${i}`, bytes(random, size)));
    files.push(memoryFile("n".repeat(100), bytes(random, 5)), memoryFile(`${"p".repeat(150)}/${"n".repeat(99)}`, bytes(random, 9), { mode: 0o755 }));
    const pack = tar.pack();
    const packed = collect(pack as AsyncIterable<Buffer>);
    for (const f of files) pack.entry({ name: f.path, size: f.size, mode: f.mode ?? 0o644, mtime: new Date(0), uid: 0, gid: 0, uname: "", gname: "" }, f.content);
    pack.finalize();
    expect((await collect(streamArchive(files))).equals(await packed)).toBe(true);
  });

  it("are the same on every run, and the same as when this test was written", async () => {
    const first = await collect(streamArchive(randomEntries(42)));
    const second = await collect(streamArchive(randomEntries(42)));
    expect(first.equals(second)).toBe(true);
    // A change here breaks downloads resumed across a deploy and every ETag: the bytes are a contract.
    expect(createHash("sha256").update(first).digest("hex")).toBe("696a53fd95320e1fd9e14d6447a9ec93ba0272a174f7e5cbe91c42ce3bb6f336");
  });

  it("has the size of its blocks: one header (or pax + header) per entry, content padded, two zero blocks", async () => {
    const plain: TarEntry[] = [0, 1, 511, 512, 513].map((size, i) => memoryFile(`p${i}`, Buffer.alloc(size, 1)));
    expect(archiveSize(plain)).toBe(5 * 512 + (0 + 512 + 512 + 512 + 1024) + 1024);
    expect(archiveSize([])).toBe(1024);
    expect(await collect(streamArchive([]))).toEqual(Buffer.alloc(1024));
    // A name over 100 bytes that cannot split: an x block, its records padded to a block, then the header.
    expect(archiveSize([memoryFile("y".repeat(101), Buffer.alloc(3))])).toBe(3 * 512 + 512 + 1024);
  });
});
