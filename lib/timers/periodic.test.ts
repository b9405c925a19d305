import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startPeriodic } from "./periodic";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("startPeriodic", () => {
  it("runs first after the delay, then on every tick, skipping ticks while a run is going, until stopped", async () => {
    const finish: (() => void)[] = [];
    let started = 0;
    const results: number[] = [];
    const stop = startPeriodic(
      () => new Promise<number>((resolve) => finish.push(() => resolve(++started))),
      { everyMs: 100, firstAfterMs: 30, done: (r) => results.push(r), failed: () => {} },
    );
    await vi.advanceTimersByTimeAsync(29);
    expect(finish).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(finish).toHaveLength(1);
    // Two ticks pass while the first run is still going: neither starts another.
    await vi.advanceTimersByTimeAsync(250);
    expect(finish).toHaveLength(1);
    finish[0]!();
    await vi.advanceTimersByTimeAsync(50); // the tick at 300 ms
    expect(results).toEqual([1]);
    expect(finish).toHaveLength(2);
    finish[1]!();
    stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(finish).toHaveLength(2);
    expect(results).toEqual([1, 2]);
  });

  it("hands a failure to `failed` and runs again on the next tick", async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const stop = startPeriodic(
      async () => {
        calls++;
        throw new Error("database gone");
      },
      { everyMs: 100, firstAfterMs: 0, failed: (e) => errors.push(e) },
    );
    await vi.advanceTimersByTimeAsync(150);
    stop();
    expect(calls).toBe(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(["database gone", "database gone"]);
  });
});
