import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareVersions, isValidVersion, newestFirst } from "./version";

describe("isValidVersion", () => {
  it("accepts 1–64 characters of [A-Za-z0-9._+-] starting with a letter or digit", () => {
    for (const v of ["1", "1.2.3", "v1.0.0-rc.1+build.5", "2024-01-15", "latest", "a".repeat(64)]) expect(isValidVersion(v)).toBe(true);
    for (const v of ["", "-1", ".1", "+1", "1 0", "1/2", "a".repeat(65), "ü1", "1.0%2F"]) expect(isValidVersion(v)).toBe(false);
  });
});

describe("compareVersions", () => {
  it("orders semver first by precedence, then other labels in natural order", () => {
    const sorted = ["1.9.0-rc.1", "1.9.0", "1.10.0", "nightly-2", "zeta", "1.0.0-alpha", "v2", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0", "nightly-10", "1.0.0-alpha.beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1"]
      .sort(compareVersions);
    expect(sorted).toEqual([
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
      "1.9.0-rc.1",
      "1.9.0",
      "1.10.0",
      "v2",
      "nightly-2",
      "nightly-10",
      "zeta",
    ]);
  });

  it("treats 1, 1.0, v1.0.0 and builds as equal precedence, broken by the label itself", () => {
    expect(compareVersions("1.0", "1.0.0")).not.toBe(0);
    expect(compareVersions("1.0.0", "1.0.1")).toBe(-1);
    expect(compareVersions("v1.0.1", "1.0.0")).toBe(1);
    expect(compareVersions("1.0.0+b2", "1.0.0-rc.1")).toBe(1);
    expect(compareVersions("99999999999999999999.0.0", "9.0.0")).toBe(1);
  });
});

const label = fc.oneof(
  fc.tuple(fc.boolean(), fc.array(fc.nat(20), { minLength: 1, maxLength: 3 }), fc.option(fc.constantFrom("rc.1", "rc.2", "alpha", "beta.10", "1"), { nil: undefined }), fc.option(fc.constantFrom("b1", "b2"), { nil: undefined }))
    .map(([v, nums, pre, build]) => `${v ? "v" : ""}${nums.join(".")}${pre ? `-${pre}` : ""}${build ? `+${build}` : ""}`),
  fc.string({ unit: fc.constantFrom(..."ab01.-+_9"), minLength: 1, maxLength: 10 }).map((s) => `x${s}`),
  fc.string({ unit: fc.constantFrom(..."0123456789.-"), minLength: 1, maxLength: 8 }).map((s) => `1${s}`),
);

describe("newestFirst", () => {
  it("lists semver labels highest first, then the other labels", () => {
    expect(["nightly-2", "1.9.0-rc.1", "1.10.0", "nightly-10", "1.9.0"].sort(newestFirst)).toEqual(["1.10.0", "1.9.0", "1.9.0-rc.1", "nightly-10", "nightly-2"]);
  });
});

describe("compareVersions (properties)", () => {
  it("is antisymmetric and 0 only for equal labels", () => {
    fc.assert(
      fc.property(label, label, (a, b) => {
        expect(Math.sign(compareVersions(a, b)) + Math.sign(compareVersions(b, a))).toBe(0);
        expect(compareVersions(a, b) === 0).toBe(a === b);
      }),
      { numRuns: 2000 },
    );
  });

  it("is transitive on random triples", () => {
    fc.assert(
      fc.property(label, label, label, (a, b, c) => {
        if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0) expect(compareVersions(a, c)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 3000 },
    );
  });

  it("sorts to the same order whatever the input order", () => {
    fc.assert(
      fc.property(fc.array(label, { maxLength: 30 }), fc.nat(), (labels, seed) => {
        const shuffled = [...labels].sort((x, y) => ((x.length * 31 + seed) % 7) - ((y.length * 31 + seed) % 7));
        expect([...shuffled].sort(compareVersions)).toEqual([...labels].sort(compareVersions));
      }),
    );
  });
});
