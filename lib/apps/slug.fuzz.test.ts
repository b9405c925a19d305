import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RESERVED_SLUGS, SLUG_MAX, SLUG_MIN, slugProblem, suggestSlug } from "@/lib/apps/slug";
import { PATH_COMPONENT_RE } from "@/lib/registry-client/reference";
import { anyChar, bestOf3 } from "@/lib/testing/fuzz";

/** The slug rule, written as a character scan (no regex) to check the real one against. */
function isValidSlugModel(s: string): boolean {
  if (s.length < SLUG_MIN || s.length > SLUG_MAX || RESERVED_SLUGS.has(s)) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const alnum = (c >= "a" && c <= "z") || (c >= "0" && c <= "9");
    if (alnum) continue;
    if (c !== "-" || i === 0 || i === s.length - 1 || s[i - 1] === "-") return false;
  }
  return true;
}

const chars = (s: string) => fc.constantFrom(...s);
const slugish = fc.string({ unit: chars("abz09--_. A"), minLength: 0, maxLength: 45 });
const validSlug = fc
  .array(fc.string({ unit: chars("abcdefghijklmnopqrstuvwxyz0123456789"), minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 })
  .map((parts) => parts.join("-"))
  .filter((s) => s.length >= SLUG_MIN && s.length <= SLUG_MAX && !RESERVED_SLUGS.has(s));
const nameLike = fc.oneof(
  fc.string({ unit: anyChar, maxLength: 80 }),
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.string({ unit: chars("AbÜéİıß ﬀ-_!/\u0301\u212A\u00a0"), maxLength: 60 }),
  fc.constantFrom(...RESERVED_SLUGS).map((s) => s.toUpperCase()),
  fc.constantFrom(...RESERVED_SLUGS).chain((s) => fc.constantFrom(` ${s} `, `${s}!`, `-${s}-`, s.replace(/-/g, " "))),
);

describe("app slugs (fuzz)", { timeout: 30_000 }, () => {
  it("slugProblem never throws and accepts exactly the slug grammar", () => {
    fc.assert(
      fc.property(fc.oneof(slugish, validSlug, fc.string({ unit: anyChar, maxLength: 50 })), (s) => {
        const problem = slugProblem(s);
        expect(problem === null).toBe(isValidSlugModel(s));
        if (problem !== null) expect(problem.length).toBeGreaterThan(0);
      }),
      { numRuns: 5000 },
    );
  });

  it("every valid slug is one path component of a repository name", () => {
    fc.assert(
      fc.property(validSlug, (s) => {
        expect(slugProblem(s)).toBeNull();
        expect(s).toMatch(PATH_COMPONENT_RE);
      }),
      { numRuns: 2000 },
    );
  });

  it("suggestSlug always suggests a valid slug, is idempotent, and keeps a valid slug as it is", () => {
    fc.assert(
      fc.property(nameLike, (name) => {
        const s = suggestSlug(name);
        expect(slugProblem(s), `suggestSlug(${JSON.stringify(name)}) = ${JSON.stringify(s)}`).toBeNull();
        expect(suggestSlug(s)).toBe(s);
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(validSlug, (s) => {
        expect(suggestSlug(s)).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it("stays linear: 64 KiB names in under 10 ms", () => {
    const N = 64 * 1024;
    const shapes: [string, string][] = [
      ["a-…", "a-".repeat(N / 2)],
      ["-…a", `${"-".repeat(N - 1)}a`],
      ["a…", "a".repeat(N)],
      ["!a…", "!a".repeat(N / 2)],
      ["spaces", `a${" ".repeat(N - 2)}a`],
      ["é…", "é".repeat(N)],
      ["combining marks", `a${"\u0301".repeat(N - 1)}`],
      ["astral", "\u{1F600}".repeat(N / 2)],
      ["ligatures", "ﬀ".repeat(N)],
    ];
    for (const [label, name] of shapes) {
      const ms = bestOf3(() => {
        suggestSlug(name);
        slugProblem(name);
      });
      expect(ms, `${label}: ${ms.toFixed(2)} ms`).toBeLessThan(10);
    }
  });
});
