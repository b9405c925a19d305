import { describe, expect, it, vi } from "vitest";
import { TokenCache } from "@/lib/registry-client/token-cache";

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
