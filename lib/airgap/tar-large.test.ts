import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { archiveSize, streamRange, type TarEntry, type TarFile } from "./tar-archive";
import { memoryFile } from "./test-entries";

/**
 * An entry of 8 GiB + 1 byte (past ustar's 11 octal digits) read by GNU tar,
 * without writing 8 GiB: every byte but that entry's content is streamed into
 * a sparse file at its offset; the content is the file's hole, read as zeros.
 */
describe("an entry of 8 GiB or more", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-airgap-large-"));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
  const bigSize = 2 ** 33 + 1;
  // A name that needs pax too: both records in one extended header.
  const bigPath = `blobs/sha256/${"b".repeat(120)}`;
  const big: TarFile = {
    path: bigPath,
    size: bigSize,
    open: () => {
      throw new Error("the big entry's content is never streamed in this test");
    },
  };
  const entries: TarEntry[] = [memoryFile("before", Buffer.from("front")), big, memoryFile("after", Buffer.from("back"))];

  it("gets a pax size record that GNU tar reads, and the entries after it stay in place", async () => {
    const total = archiveSize(entries);
    const bigEnd = archiveSize(entries.slice(0, 2)) - 1024; // after its padding
    const contentStart = bigEnd - 511 - bigSize;
    expect(total).toBe(1024 + 1536 + bigSize + 511 + 1024 + 1024);
    const file = path.join(work, "big.tar");
    const fd = fs.openSync(file, "w");
    try {
      fs.ftruncateSync(fd, total);
      for (const [start, end] of [[0, contentStart - 1], [contentStart + bigSize, total - 1]] as const) {
        let at = start;
        for await (const part of streamRange(entries, start, end)) {
          fs.writeSync(fd, part, 0, part.length, at);
          at += part.length;
        }
        expect(at).toBe(end + 1);
      }
    } finally {
      fs.closeSync(fd);
    }
    const list = spawnSync("tar", ["-tv", "--numeric-owner", "--quoting-style=literal", "-f", file], { encoding: "utf8", timeout: 120_000 });
    expect(list.stderr).toBe("");
    expect(list.status).toBe(0);
    const rows = list.stdout.trimEnd().split("\n").map((line) => line.split(/\s+/));
    expect(rows.map((r) => [r[2], r[5]])).toEqual([["5", "before"], [String(bigSize), bigPath], ["4", "after"]]);
    const after = spawnSync("tar", ["-xO", "-f", file, "after"], { timeout: 120_000 });
    expect(after.status).toBe(0);
    expect(after.stdout.toString()).toBe("back");
  }, 180_000);
});
