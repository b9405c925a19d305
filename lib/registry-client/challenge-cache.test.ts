import { describe, expect, it, vi } from "vitest";
import { CHALLENGE_CACHE_LIMITS, ChallengeCache } from "@/lib/registry-client/challenge-cache";

vi.mock("@/lib/log", () => ({ log: { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } }));

const bearer = (n: number) => ({ scheme: "bearer", params: { realm: `https://auth${n}.example/token` } });

describe("ChallengeCache", () => {
  it("keeps at most 1,000 hosts by default, least recently used evicted", () => {
    const cache = new ChallengeCache();
    for (let i = 0; i < 5_000; i++) cache.set(`reg${i}.example`, bearer(i));
    expect(cache.size).toBe(CHALLENGE_CACHE_LIMITS.max);
    expect(cache.get("reg0.example")).toBeUndefined();
    expect(cache.get("reg4999.example")).toEqual(bearer(4999));
  });

  it("remembers 'no auth' (null) apart from 'never seen' (undefined)", () => {
    const cache = new ChallengeCache();
    cache.set("open.example", null);
    expect(cache.get("open.example")).toBeNull();
    expect(cache.get("unknown.example")).toBeUndefined();
  });

  it("forgets a challenge after an hour at most (fake clock)", () => {
    let now = 1_000;
    const cache = new ChallengeCache(CHALLENGE_CACHE_LIMITS, () => now);
    cache.set("reg.example", bearer(1));
    now += 59 * 60_000;
    expect(cache.get("reg.example")).toEqual(bearer(1));
    now += 2 * 60_000;
    expect(cache.get("reg.example")).toBeUndefined();
  });
});
