import { describe, expect, it } from "vitest";
import { DEFAULT_FLOOR_MIN_BYTES, floorBytes } from "./free-space";

describe("floorBytes", () => {
  const GiB = 2 ** 30;
  it("defaults to the larger of 5 % of the volume and 2 GiB", () => {
    expect(floorBytes(10 * GiB, null)).toBe(DEFAULT_FLOOR_MIN_BYTES); // 5 % = 0.5 GiB < 2 GiB
    expect(floorBytes(1000 * GiB, null)).toBe(50 * GiB);
  });
  it("takes a size or a share of the volume as set", () => {
    expect(floorBytes(1000 * GiB, { kind: "bytes", bytes: 3 * GiB })).toBe(3 * GiB);
    expect(floorBytes(1000 * GiB, { kind: "percent", percent: 10 })).toBe(100 * GiB);
    expect(floorBytes(1000 * GiB, { kind: "bytes", bytes: 0 })).toBe(0);
  });
});
