import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseWwwAuthenticate, pickChallenge, type Challenge } from "@/lib/registry-client/challenge";
import { anyChar, bestOf3 } from "@/lib/testing/fuzz";

const TCHAR = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+.^_`|~-";
const token = fc.string({ unit: fc.constantFrom(...TCHAR), minLength: 1, maxLength: 12 });
const quote = (v: string) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/** Challenges built from generated values, each param serialized quoted (any value) or bare (a token). */
const challenges = fc.array(
  fc.record({
    scheme: token,
    params: fc.uniqueArray(
      fc.record({
        // names that are also Object.prototype properties must stay ordinary params
        key: fc.oneof({ weight: 5, arbitrary: token }, { weight: 1, arbitrary: fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty") }),
        value: fc.oneof(fc.string({ unit: anyChar, maxLength: 40 }), fc.string({ unit: fc.constantFrom('"', "\\", ",", " ", "=", "a"), maxLength: 10 }), token),
        bare: fc.boolean(),
      }),
      { selector: (p) => p.key.toLowerCase(), maxLength: 5 },
    ),
  }),
  { minLength: 1, maxLength: 4 },
);

/** The tokenizer as it was before the linear rewrite, kept as a model: same results on every input without a __proto__ param. */
function previousParser(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  let current: Challenge | undefined;
  while (i < n) {
    while (i < n && /[\s,]/.test(header[i] ?? "")) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && /[A-Za-z0-9!#$%&'*+.^_`|~-]/.test(header[i] ?? "")) i++;
    const token = header.slice(start, i);
    if (!token) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && header[j] === " ") j++;
    if (header[j] === "=" && current) {
      i = j + 1;
      while (i < n && header[i] === " ") i++;
      let value = "";
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === "\\" && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        const s = i;
        while (i < n && header[i] !== ",") i++;
        value = header.slice(s, i).trim();
      }
      current.params[token.toLowerCase()] = value;
    } else {
      current = { scheme: token.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}

describe("parseWwwAuthenticate (fuzz)", { timeout: 30_000 }, () => {
  it("agrees with the previous tokenizer on arbitrary headers", () => {
    const alphabet = fc.constantFrom("Bearer", "Basic", " ", ",", "=", '"', "\\", "realm", "a", "\t", "\n", "\u00a0", "\u2028", "\ufeff", "é", "\u{1F600}");
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: anyChar, maxLength: 100 }), fc.string({ unit: alphabet, maxLength: 60 })), (header) => {
        expect(parseWwwAuthenticate(header)).toEqual(previousParser(header));
      }),
      { numRuns: 5000 },
    );
  });

  it("never throws, on any string", () => {
    const alphabet = fc.constantFrom("Bearer", "Basic", " ", ",", "=", '"', "\\", "realm", "a", "\t", "\n", "__proto__", "constructor");
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: anyChar, maxLength: 200 }), fc.string({ unit: alphabet, maxLength: 60 })), (header) => {
        const out = parseWwwAuthenticate(header);
        expect(Array.isArray(out)).toBe(true);
        for (const c of out) {
          expect(c.scheme).toBe(c.scheme.toLowerCase());
          for (const [k, v] of Object.entries(c.params)) {
            expect(k).toBe(k.toLowerCase());
            expect(typeof v).toBe("string");
          }
        }
        pickChallenge(out);
      }),
      { numRuns: 5000 },
    );
  });

  it("parses serialized challenges back to the same schemes and params", () => {
    fc.assert(
      fc.property(challenges, (list) => {
        const header = list
          .map((c) => [c.scheme, c.params.map((p) => `${p.key}=${p.bare && /^[^",\s]+$/.test(p.value) && !/^\s|\s$/.test(p.value) ? p.value : quote(p.value)}`).join(",")].filter(Boolean).join(" "))
          .join(", ");
        const want: Challenge[] = list.map((c) => ({
          scheme: c.scheme.toLowerCase(),
          params: Object.fromEntries(c.params.map((p) => [p.key.toLowerCase(), p.value])),
        }));
        const got = parseWwwAuthenticate(header);
        expect(got).toEqual(want);
        for (const c of got) for (const k of Object.keys(c.params)) expect(Object.hasOwn(c.params, k)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  // Found by the round-trip property (shrunk): [{ scheme: "a", params: [{ key: "__proto__", value: "" }] }, { scheme: "a" }].
  // `params[key] = value` with key "__proto__" hit the prototype setter and the param vanished.
  it("regression: a param named __proto__ round-trips", () => {
    expect(parseWwwAuthenticate('a __proto__="", a')).toEqual([
      { scheme: "a", params: Object.fromEntries([["__proto__", ""]]) },
      { scheme: "a", params: {} },
    ]);
    expect(Object.keys(parseWwwAuthenticate('a __proto__=""')[0]!.params)).toEqual(["__proto__"]);
  });

  it("keeps __proto__ and other Object.prototype names as ordinary params", () => {
    const [c] = parseWwwAuthenticate('Bearer __proto__="x",constructor="y",realm="r"');
    expect(Object.getPrototypeOf(c!.params)).toBe(Object.prototype);
    expect(Object.hasOwn(c!.params, "__proto__")).toBe(true);
    expect(c!.params.__proto__).toBe("x");
    expect(c!.params.constructor).toBe("y");
    expect(c!.params.realm).toBe("r");
  });

  it("stays linear: 64 KiB adversarial headers in under 10 ms", () => {
    const N = 64 * 1024;
    const shapes: [string, string][] = [
      ["long quoted value", `Bearer realm="${"a".repeat(N)}"`],
      ["escaped quotes", `Bearer realm="${'\\"'.repeat(N / 2)}"`],
      ["backslashes", `Bearer realm="${"\\".repeat(N)}`],
      ["unterminated quote", `Bearer realm="${"a,".repeat(N / 2)}`],
      ["quotes", '"'.repeat(N)],
      ["commas", ",".repeat(N)],
      ["spaces before =", `Bearer a${" ".repeat(N)}b`],
      ["one long token", "a".repeat(N)],
      ["many schemes", "a ".repeat(N / 2)],
      ["many params", `Bearer ${"a=b,".repeat(N / 4)}`],
      ["many quoted params", `Bearer ${'a="b",'.repeat(N / 6)}`],
      ["runs of = and quotes", `B ${'x="'.repeat(N / 3)}`],
      ["long bare value", `Bearer realm=${"x ".repeat(N / 2)}`],
      ["stray characters", "\u00e9".repeat(N)],
      ["astral characters", "\u{1F600}".repeat(N / 2)],
    ];
    parseWwwAuthenticate(shapes.map(([, s]) => s.slice(0, 1000)).join(",")); // warm up
    for (const [label, header] of shapes) {
      expect(header.length).toBeGreaterThanOrEqual(N - 8);
      const ms = bestOf3(() => parseWwwAuthenticate(header));
      expect(ms, `${label}: ${ms.toFixed(2)} ms`).toBeLessThan(10);
    }
  });
});
