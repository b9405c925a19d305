import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchesPattern, parsePattern, PatternError, validatePatterns } from "@/lib/releases/patterns";
import { anyChar, bestOf3 } from "@/lib/testing/fuzz";

describe("matchesPattern", () => {
  it("is anchored on the whole string", () => {
    expect(matchesPattern("quay.io/acme/api", "quay.io/acme/api")).toBe(true);
    expect(matchesPattern("quay.io/acme/api", "quay.io/acme/api2")).toBe(false);
    expect(matchesPattern("quay.io/acme/api", "xquay.io/acme/api")).toBe(false);
    expect(matchesPattern("quay.io/acme/api", "quay.io/acme/api/x")).toBe(false);
    expect(matchesPattern("quay.io/acme", "quay.io/acme/api")).toBe(false);
  });

  it("matches * within one path segment only", () => {
    expect(matchesPattern("quay.io/acme/*", "quay.io/acme/api")).toBe(true);
    expect(matchesPattern("quay.io/acme/*", "quay.io/acme/api/worker")).toBe(false);
    expect(matchesPattern("quay.io/acme/*", "quay.io/acme")).toBe(false);
    expect(matchesPattern("quay.io/acme/*", "quay.io/other/api")).toBe(false);
    expect(matchesPattern("quay.io/acme/api-*", "quay.io/acme/api-worker")).toBe(true);
    expect(matchesPattern("quay.io/acme/api-*", "quay.io/acme/web-worker")).toBe(false);
    expect(matchesPattern("quay.io/acme/*-worker", "quay.io/acme/api-worker")).toBe(true);
    expect(matchesPattern("quay.io/acme/a*b*c", "quay.io/acme/axxbyyc")).toBe(true);
    expect(matchesPattern("quay.io/acme/a*b*c", "quay.io/acme/abc")).toBe(true);
    expect(matchesPattern("quay.io/acme/a*b*c", "quay.io/acme/acb")).toBe(false);
    expect(matchesPattern("quay.io/acme/a*a", "quay.io/acme/a")).toBe(false);
    expect(matchesPattern("*/acme/api", "ghcr.io/acme/api")).toBe(true);
  });

  it("matches ** across one or more segments", () => {
    expect(matchesPattern("127.0.0.1_5000/acme/**", "127.0.0.1_5000/acme/x")).toBe(true);
    expect(matchesPattern("127.0.0.1_5000/acme/**", "127.0.0.1_5000/acme/x/y/z")).toBe(true);
    expect(matchesPattern("127.0.0.1_5000/acme/**", "127.0.0.1_5000/acme")).toBe(false);
    expect(matchesPattern("127.0.0.1_5000/acme/**", "127.0.0.1_5000/acmes/x")).toBe(false);
    expect(matchesPattern("quay.io/**/api", "quay.io/acme/api")).toBe(true);
    expect(matchesPattern("quay.io/**/api", "quay.io/a/b/c/api")).toBe(true);
    expect(matchesPattern("quay.io/**/api", "quay.io/api")).toBe(false);
    expect(matchesPattern("quay.io/**/x/**/y", "quay.io/a/x/b/x/c/y")).toBe(true);
    expect(matchesPattern("quay.io/**/x/**/y", "quay.io/a/x/y")).toBe(false);
    expect(matchesPattern("quay.io/**/**", "quay.io/a")).toBe(false);
    expect(matchesPattern("quay.io/**/**", "quay.io/a/b")).toBe(true);
    expect(matchesPattern("**", "docker.io/library/ubuntu")).toBe(true);
    expect(matchesPattern("**/ubuntu", "docker.io/library/ubuntu")).toBe(true);
  });

  it("matches nothing for an invalid pattern string or input", () => {
    expect(matchesPattern("quay.io/Acme/*", "quay.io/Acme/x")).toBe(false);
    expect(matchesPattern("quay.io/acme/*", "")).toBe(false);
    expect(matchesPattern("quay.io/acme/*", "quay.io/acme/")).toBe(false);
  });
});

describe("parsePattern and validatePatterns", () => {
  it("refuses invalid patterns with a clear message", () => {
    for (const bad of ["", "   ", "quay.io", "quay.io/", "/acme/x", "quay.io//x", "quay.io/a**", "quay.io/***", "quay.io/ac me", "quay.io/acme/-x", "quay.io/..", "quay.io/acme/x?", "a".repeat(300) + "/x"]) {
      expect(() => parsePattern(bad), bad).toThrow(PatternError);
    }
    expect(() => parsePattern("quay.io")).toThrow(/names no repository/);
    expect(() => parsePattern("quay.io/a**")).toThrow(/whole path segment/);
  });

  it("normalizes, deduplicates and caps the list", () => {
    expect(validatePatterns([" Quay.io/acme/* ", "quay.io/acme/*", "127.0.0.1_5000/acme/**"])).toEqual(["quay.io/acme/*", "127.0.0.1_5000/acme/**"]);
    expect(validatePatterns([])).toEqual([]);
    expect(() => validatePatterns(Array.from({ length: 51 }, (_, i) => `quay.io/acme/r${i}`))).toThrow(/At most 50/);
    expect(validatePatterns(Array.from({ length: 60 }, () => "quay.io/acme/r"))).toEqual(["quay.io/acme/r"]);
    expect(() => validatePatterns(["quay.io/acme/*", "nope"])).toThrow(PatternError);
  });
});

describe("matchesPattern properties", () => {
  const chars = (s: string) => fc.constantFrom(...s);
  const text = fc.string({ unit: fc.oneof(chars("ab/*."), anyChar), maxLength: 40 });
  const patterns = ["**", "quay.io/**", "quay.io/acme/*", "*/**/a*b*c/**/x", "a/**/**/b", "a*a*a*a*a*b/**"];

  it("never throws, whatever the pattern or input", () => {
    fc.assert(
      fc.property(text, text, (p, s) => {
        expect(typeof matchesPattern(p, s)).toBe("boolean");
        for (const q of patterns) expect(typeof matchesPattern(q, s)).toBe("boolean");
      }),
      { numRuns: 500 },
    );
  });

  it("agrees with a reference regular expression on small inputs", () => {
    const toRe = (p: string) => new RegExp(`^${p.split("/").map((s) => (s === "**" ? "[^/]+(?:/[^/]+)*" : s.split("*").map((x) => x.replace(/[.]/g, "\\.")).join("[^/]*"))).join("/")}$`);
    const seg = fc.string({ unit: chars("ab.x"), minLength: 1, maxLength: 4 }).filter((s) => /^[abx]+(\.[abx]+)*$/.test(s));
    const input = fc.array(seg, { minLength: 1, maxLength: 6 }).map((xs) => xs.join("/"));
    fc.assert(
      fc.property(input, (s) => {
        for (const p of patterns) expect(matchesPattern(p, s), `${p} ~ ${s}`).toBe(toRe(p).test(s) && !s.split("/").includes(""));
      }),
      { numRuns: 1000 },
    );
  });

  it("is fast on 64 KiB of hostile input", () => {
    const hostile = ["a/".repeat(32 * 1024), "a".repeat(64 * 1024), `${"a*".repeat(100)}/x`];
    const compiled = patterns.map((p) => parsePattern(p));
    for (const s of hostile) {
      expect(bestOf3(() => compiled.forEach((p) => matchesPattern(p, s)))).toBeLessThan(10);
    }
    // Near the size limit, a pattern with many wildcards is still quick.
    const near = `quay.io/${"ab/".repeat(80)}c`;
    const many = parsePattern(`quay.io/**/${"*a*/".repeat(20)}**/c`);
    expect(bestOf3(() => matchesPattern(many, near))).toBeLessThan(10);
  });
});
