import { describe, expect, it, vi } from "vitest";
import { TOKEN_CACHE_LIMITS, TokenCache } from "@/lib/registry-client/token-cache";

describe("TokenCache", () => {
  it("shares one fetch between concurrent callers and reuses the token until shortly before expiry", async () => {
    let now = 1_000_000;
    const cache = new TokenCache(() => now);
    const fetcher = vi.fn(async () => ({ token: `t${fetcher.mock.calls.length}`, expiresInSeconds: 300 }));
    const key = TokenCache.key({ realm: "https://auth/token", service: "s", scopes: ["repository:a:pull"] });
    const tokens = await Promise.all([cache.get(key, fetcher), cache.get(key, fetcher), cache.get(key, fetcher)]);
    expect(tokens).toEqual(["t1", "t1", "t1"]);
    expect(fetcher).toHaveBeenCalledTimes(1);
    now += 289_000;
    expect(await cache.get(key, fetcher)).toBe("t1");
    now += 2_000; // within 10 s of expiry
    expect(await cache.get(key, fetcher)).toBe("t2");
  });

  it("applies a 60 s floor to short or missing expires_in", async () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    const fetcher = vi.fn(async () => ({ token: "x", expiresInSeconds: 1 }));
    await cache.get("k", fetcher);
    now = 45_000;
    await cache.get("k", fetcher);
    expect(fetcher).toHaveBeenCalledTimes(1);
  });

  it("keys by realm, service, scope set and credentials (never the raw password)", () => {
    const a = TokenCache.key({ realm: "r", service: "s", scopes: ["b", "a"], credentials: { username: "u", password: "p" } });
    expect(a).toBe(TokenCache.key({ realm: "r", service: "s", scopes: ["a", "b"], credentials: { username: "u", password: "p" } }));
    expect(a).not.toBe(TokenCache.key({ realm: "r", service: "s", scopes: ["a", "b"], credentials: { username: "u", password: "q" } }));
    expect(a).not.toBe(TokenCache.key({ realm: "r", service: "s", scopes: ["a", "b"] }));
    expect(a).not.toContain('"p"');
  });

  it("does not cache failures", async () => {
    const cache = new TokenCache();
    await expect(cache.get("k", async () => Promise.reject(new Error("401")))).rejects.toThrow("401");
    expect(await cache.get("k", async () => ({ token: "ok" }))).toBe("ok");
  });
});

describe("TokenCache bounds (every token server may be hostile)", () => {
  it("keeps at most `max` entries, evicting the least recently used", async () => {
    const cache = new TokenCache(() => 0, { max: 100 });
    for (let i = 0; i < 1_000; i++) await cache.get(`k${i}`, async () => ({ token: `t${i}`, expiresInSeconds: 300 }));
    expect(cache.size).toBe(100);
    const fetcher = vi.fn(async () => ({ token: "again" }));
    expect(await cache.get("k999", fetcher)).toBe("t999");
    expect(await cache.get("k0", fetcher)).toBe("again");
  });

  it("bounds the bytes held: 10,000 scopes with ~60 KiB tokens stay under maxBytes", async () => {
    const cache = new TokenCache(() => 0);
    const big = "x".repeat(60 * 1024);
    for (let i = 0; i < 10_000; i++) await cache.get(`scope-${i}`, async () => ({ token: `${big}${i}`, expiresInSeconds: 300 }));
    expect(cache.size).toBeLessThanOrEqual(TOKEN_CACHE_LIMITS.max);
    expect(cache.bytes).toBeLessThanOrEqual(TOKEN_CACHE_LIMITS.maxBytes);
    expect(cache.size).toBeLessThan(300); // 16 MiB / 60 KiB
    expect(cache.pending).toBe(0);
  });

  it("keeps no token longer than 10 minutes, whatever expires_in says", async () => {
    let now = 5_000_000;
    const cache = new TokenCache(() => now);
    const fetcher = vi.fn(async () => ({ token: `t${fetcher.mock.calls.length}`, expiresInSeconds: 365 * 24 * 3600 }));
    expect(await cache.get("k", fetcher)).toBe("t1");
    now += 9 * 60_000;
    expect(await cache.get("k", fetcher)).toBe("t1");
    now += 60_000; // 10 min: past the cap (and its early refresh)
    expect(await cache.get("k", fetcher)).toBe("t2");
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it("ignores a non-finite expires_in (floor applies)", async () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    const fetcher = vi.fn(async () => ({ token: "x", expiresInSeconds: Number.NaN }));
    await cache.get("k", fetcher);
    now = 45_000;
    await cache.get("k", fetcher);
    expect(fetcher).toHaveBeenCalledTimes(1);
    now = 55_000;
    await cache.get("k", fetcher);
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it("still shares one fetch between concurrent callers while bounded", async () => {
    const cache = new TokenCache(() => 0, { max: 1 });
    let release: (v: { token: string }) => void = () => undefined;
    const fetcher = vi.fn(() => new Promise<{ token: string }>((r) => (release = r)));
    const all = Promise.all(Array.from({ length: 5 }, () => cache.get("k", fetcher)));
    expect(cache.pending).toBe(1);
    release({ token: "shared" });
    expect(await all).toEqual(Array(5).fill("shared"));
    expect(fetcher).toHaveBeenCalledTimes(1);
  });
});
