import { describe, expect, it } from "vitest";
import { FAILURE_BACKOFF_MS, LIFETIME_BOUNDS_MS, RefreshingCredentials, REFUSAL_REMINT_INTERVAL_MS } from "./lifecycle";
import { CloudCredentialError, type MintedCredentials } from "./types";

/** A cloud whose mints the test releases by hand, on a clock the test moves. */
function setup(lifeMs = 1000 * 1000) {
  let now = 1_000_000;
  let n = 0;
  const pending: { resolve: (m: MintedCredentials) => void; reject: (e: Error) => void }[] = [];
  const events: string[] = [];
  const source = new RefreshingCredentials(
    () =>
      new Promise<MintedCredentials>((resolve, reject) => {
        pending.push({ resolve, reject });
      }),
    { minted: () => events.push("minted"), failed: (_at, e) => events.push(`failed: ${e.message}`) },
    () => now,
  );
  const release = () => {
    const p = pending.shift();
    if (!p) throw new Error("no mint pending");
    n++;
    p.resolve({ username: "AWS", password: `token-${n}`, expiresAt: now + lifeMs });
  };
  const fail = (message: string) => pending.shift()?.reject(new CloudCredentialError("rejected", message));
  const tick = () => new Promise((r) => setImmediate(r));
  return { source, release, fail, tick, pending, events, advance: (ms: number) => (now += ms) };
}

describe("RefreshingCredentials", () => {
  it("mints once for 16 concurrent first uses, and serves the token without minting until 75 % of its life", async () => {
    const t = setup(1000_000);
    const all = Promise.all(Array.from({ length: 16 }, () => t.source.current()));
    await t.tick();
    expect(t.pending).toHaveLength(1);
    t.release();
    expect(new Set((await all).map((c) => c.password))).toEqual(new Set(["token-1"]));
    t.advance(749_000);
    expect((await t.source.current()).password).toBe("token-1");
    expect(t.source.mints).toBe(1);
    // Past 75 %: one refresh, 16 callers wait for it and all get the new token.
    t.advance(2_000);
    const again = Promise.all(Array.from({ length: 16 }, () => t.source.current()));
    await t.tick();
    expect(t.pending).toHaveLength(1);
    t.release();
    expect(new Set((await again).map((c) => c.password))).toEqual(new Set(["token-2"]));
    expect(t.source.mints).toBe(2);
  });

  it("a refusal by the registry re-mints once for all the requests that saw it, and not in a loop", async () => {
    const t = setup();
    const first = t.source.current();
    await t.tick();
    t.release();
    const stale = await first;
    // 16 requests get 401 with token-1: the first refusal drops it, every one retries, one mint.
    const verdicts = Array.from({ length: 16 }, () => t.source.refused(stale));
    expect(verdicts.every(Boolean)).toBe(true);
    const retries = Promise.all(Array.from({ length: 16 }, () => t.source.current()));
    await t.tick();
    expect(t.pending).toHaveLength(1);
    t.release();
    expect(new Set((await retries).map((c) => c.password))).toEqual(new Set(["token-2"]));
    // The fresh token refused too (the identity lacks pull rights): no retry, no mint, for a while.
    expect(t.source.refused({ username: "AWS", password: "token-2" })).toBe(false);
    expect((await t.source.current()).password).toBe("token-2");
    expect(t.source.mints).toBe(2);
    t.advance(REFUSAL_REMINT_INTERVAL_MS + 1);
    expect(t.source.refused({ username: "AWS", password: "token-2" })).toBe(true);
  });

  it("a failed refresh keeps the unexpired token; once it has expired, callers get the cloud's words, and the cloud is not asked again for a while", async () => {
    const t = setup(100_000);
    const first = t.source.current();
    await t.tick();
    t.release();
    await first;
    t.advance(80_000); // past 75 %
    const during = t.source.current();
    await t.tick();
    t.fail("AWS rejected the access key: InvalidSignatureException");
    expect((await during).password).toBe("token-1");
    expect(t.events).toContain("failed: AWS rejected the access key: InvalidSignatureException");
    t.advance(25_000); // expired, and past the backoff
    const after = t.source.current();
    await t.tick();
    t.fail("AWS rejected the access key: InvalidSignatureException");
    await expect(after).rejects.toThrow("AWS rejected the access key: InvalidSignatureException");
    // Within the backoff: the same error, without a request to the cloud.
    const mints = t.source.mints;
    await expect(t.source.current()).rejects.toThrow("InvalidSignatureException");
    expect(t.source.mints).toBe(mints);
    t.advance(FAILURE_BACKOFF_MS + 1);
    const retry = t.source.current();
    await t.tick();
    expect(t.source.mints).toBe(mints + 1);
    t.release();
    expect((await retry).password).toBe("token-2");
  });

  it("bounds what the cloud says about a token's life", async () => {
    const t = setup(-5_000); // already expired when minted: a lying or skewed API
    const first = t.source.current();
    await t.tick();
    t.release();
    await first;
    expect(t.source.state()?.expiresAt).toBe(1_000_000 + LIFETIME_BOUNDS_MS.min);
    const long = setup(365 * 24 * 3600_000);
    const p = long.source.current();
    await long.tick();
    long.release();
    await p;
    expect(long.source.state()?.expiresAt).toBe(1_000_000 + LIFETIME_BOUNDS_MS.max);
  });

  it("refreshNow mints even when the held token is fresh (Test connection asks the cloud today)", async () => {
    const t = setup();
    const first = t.source.current();
    await t.tick();
    t.release();
    await first;
    const forced = t.source.refreshNow();
    await t.tick();
    expect(t.pending).toHaveLength(1);
    t.fail("Google rejected the service-account key: invalid_grant");
    await expect(forced).rejects.toThrow("invalid_grant");
  });
});
