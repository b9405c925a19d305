import { describe, expect, it } from "vitest";
import { parseRange } from "./range";

describe("parseRange", () => {
  it("reads the three single-range forms against the length", () => {
    expect(parseRange("bytes=0-99", 1000)).toEqual({ kind: "range", start: 0, end: 99 });
    expect(parseRange("bytes=900-", 1000)).toEqual({ kind: "range", start: 900, end: 999 });
    expect(parseRange("bytes=-100", 1000)).toEqual({ kind: "range", start: 900, end: 999 });
  });
  it("clamps an end past the length and a suffix longer than the blob", () => {
    expect(parseRange("bytes=10-5000", 1000)).toEqual({ kind: "range", start: 10, end: 999 });
    expect(parseRange("bytes=-5000", 1000)).toEqual({ kind: "range", start: 0, end: 999 });
  });
  it("says unsatisfiable for a start at or past the end, and an empty suffix", () => {
    expect(parseRange("bytes=1000-", 1000)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-0", 1000)).toEqual({ kind: "unsatisfiable" });
  });
  it("ignores what is not one byte range", () => {
    for (const h of ["bytes=0-1,5-6", "items=0-1", "bytes=", "bytes=-", "bytes=5-2", "bytes=a-b", `bytes=${"1".repeat(20)}-`]) expect(parseRange(h, 1000)).toBeNull();
  });
});
