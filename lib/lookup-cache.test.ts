import { describe, expect, it } from "vitest";
import { LookupCache } from "./lookup-cache";

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("LookupCache", () => {
  it("sends one load for concurrent misses of a key, and remembers the answer (a miss too)", async () => {
    const cache = new LookupCache<string | null>({ max: 10, ttlMs: 60_000 });
    let loads = 0;
    const d = deferred<string | null>();
    const all = Promise.all(Array.from({ length: 10 }, () => cache.get("k", () => (loads++, d.promise))));
    d.resolve(null);
    expect(await all).toEqual(Array(10).fill(null));
    expect(await cache.get("k", async () => (loads++, "again"))).toBeNull();
    expect(loads).toBe(1);
  });

  it("a load overtaken by clear() or set() does not store its older answer; a failed load is not remembered", async () => {
    const cache = new LookupCache<string>({ max: 10, ttlMs: 60_000 });
    const before = deferred<string>();
    const first = cache.get("license", () => before.promise);
    cache.clear(); // revoked meanwhile
    const after = await cache.get("license", async () => "revoked");
    before.resolve("active");
    expect(await first).toBe("active"); // its own caller gets what it read
    expect(after).toBe("revoked");
    expect(await cache.get("license", async () => "reloaded")).toBe("revoked");

    const slow = deferred<string>();
    const pending = cache.get("link", () => slow.promise);
    cache.set("link", "saved");
    slow.resolve("stale");
    await pending;
    expect(await cache.get("link", async () => "x")).toBe("saved");

    await expect(cache.get("bad", async () => Promise.reject(new Error("db down")))).rejects.toThrow("db down");
    expect(await cache.get("bad", async () => "ok")).toBe("ok");
  });
});
