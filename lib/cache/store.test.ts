import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { contentPath } from "./layout";
import { ContentStore } from "./store";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function newStore(maxBytes: number, onEvict?: (digest: string) => void) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-store-"));
  dirs.push(dir);
  let clock = 1_000_000;
  const store = new ContentStore({ dir, maxBytes, onEvict, now: () => (clock += 1000) });
  return { dir, store };
}

const blob = (n: number, fill: number) => {
  const body = Buffer.alloc(n, fill);
  return { body, digest: `sha256:${crypto.createHash("sha256").update(body).digest("hex")}` };
};

describe("ContentStore", () => {
  it("evicts least recently used content down to the low-water mark, never content being read", async () => {
    const evicted: string[] = [];
    const { store } = newStore(1000, (d) => evicted.push(d));
    await store.init();
    const [a, b, c, d] = [blob(300, 1), blob(300, 2), blob(300, 3), blob(300, 4)];
    await store.put(a.digest, a.body);
    await store.put(b.digest, b.body);
    await store.put(c.digest, c.body);
    const reading = await store.open(a.digest); // a is the oldest, but open
    expect(reading).not.toBeNull();
    await store.put(d.digest, d.body); // 1200 > 1000: evict down to 900, skipping a
    expect(evicted).toEqual([b.digest]);
    expect(store.has(a.digest)).toBe(true);
    expect(store.bytes).toBe(900);
    // The open file still reads whole.
    expect((await reading!.fh.readFile()).equals(a.body)).toBe(true);
    reading!.release();
    // a was used (opened) after c was written, so c goes before it.
    const e = blob(300, 6);
    await store.put(e.digest, e.body); // 1200 again: c is the oldest unread now
    expect(evicted).toEqual([b.digest, c.digest]);
  });

  it("hashes content it did not verify itself before serving it, and drops what does not match", async () => {
    const { dir, store } = newStore(10_000);
    const good = blob(500, 9);
    fs.mkdirSync(path.dirname(contentPath(dir, good.digest)), { recursive: true });
    fs.writeFileSync(contentPath(dir, good.digest), good.body);
    const bad = blob(500, 8);
    fs.mkdirSync(path.dirname(contentPath(dir, bad.digest)), { recursive: true });
    fs.writeFileSync(contentPath(dir, bad.digest), Buffer.alloc(500, 7)); // wrong bytes under bad's name
    await store.init();
    expect(store.count).toBe(2);
    expect(await store.read(good.digest)).toEqual(good.body);
    expect(await store.read(bad.digest)).toBeNull();
    expect(fs.existsSync(contentPath(dir, bad.digest))).toBe(false);
    expect(store.has(bad.digest)).toBe(false);
  });

  it("treats a file removed behind its back (a purge from the CLI) as a miss", async () => {
    const { dir, store } = newStore(10_000);
    await store.init();
    const x = blob(100, 5);
    await store.put(x.digest, x.body);
    fs.rmSync(contentPath(dir, x.digest));
    expect(await store.open(x.digest)).toBeNull();
    expect(store.bytes).toBe(0);
  });

  it("puts content back that was removed behind its back, even while still indexed", async () => {
    const { dir, store } = newStore(10_000);
    await store.init();
    const x = blob(100, 6);
    await store.put(x.digest, x.body);
    fs.rmSync(contentPath(dir, x.digest)); // the index still lists it
    await store.put(x.digest, x.body); // fetched again after the miss
    expect(fs.readFileSync(contentPath(dir, x.digest)).equals(x.body)).toBe(true);
    expect(store.bytes).toBe(100);
  });

  it("removes temp files of dead fills older than an hour at start, and keeps younger ones", async () => {
    const { dir } = newStore(10_000);
    fs.mkdirSync(path.join(dir, "tmp"), { recursive: true });
    const old = path.join(dir, "tmp", "old.part");
    const young = path.join(dir, "tmp", "young.part");
    fs.writeFileSync(old, "x");
    fs.writeFileSync(young, "y");
    const hourAgo = new Date(Date.now() - 2 * 3600_000);
    fs.utimesSync(old, hourAgo, hourAgo);
    const real = new ContentStore({ dir, maxBytes: 10_000 });
    await real.init();
    expect(fs.existsSync(old)).toBe(false);
    expect(fs.existsSync(young)).toBe(true);
  });
});
