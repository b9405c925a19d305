import fc from "fast-check";

/**
 * Shared pieces of the property-based tests (*.fuzz.test.ts).
 *
 * Any UTF-16 text: ASCII half the time, else any code point (lone surrogates
 * included). fast-check's own unit "binary" does the same but is ~20x slower.
 */
export const anyChar = fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0x10ffff })).map((c) => String.fromCodePoint(c));

/**
 * The best of three runs, in milliseconds, to tolerate noise on a loaded
 * 2-core machine; while still over the budget it keeps trying, up to ten runs,
 * since a linear parser only needs one quiet run to show it.
 */
export function bestOf3(f: () => unknown, budgetMs = 10): number {
  let best = Infinity;
  for (let k = 0; k < 10 && (k < 3 || best >= budgetMs); k++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}
