import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  apiHostFor,
  DOCKER_HUB,
  DOCKER_HUB_API,
  isDockerHub,
  manifestReference,
  NAME_TOTAL_MAX,
  parseReference,
  PATH_COMPONENT_RE,
  ReferenceError,
  type ImageReference,
} from "@/lib/registry-client/reference";
import { anyChar, bestOf3 } from "@/lib/testing/fuzz";

/** parseReference, with any error other than ReferenceError failing the property. */
function tryParse(input: string): ImageReference | ReferenceError {
  try {
    return parseReference(input);
  } catch (e) {
    if (e instanceof ReferenceError) return e;
    throw e;
  }
}

const chars = (s: string) => fc.constantFrom(...s);
const LOWER = "abcdefghijklmnopqrstuvwxyz0123456789";
const alnum = fc.string({ unit: chars(LOWER), minLength: 1, maxLength: 5 });
const separator = fc.constantFrom(".", "_", "__", "-", "---");
const component = fc.tuple(alnum, fc.array(fc.tuple(separator, alnum), { maxLength: 2 })).map(([h, t]) => h + t.map(([s, a]) => s + a).join(""));
const path = fc.array(component, { minLength: 1, maxLength: 4 }).map((cs) => cs.join("/"));
const label = fc.string({ unit: chars("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"), minLength: 1, maxLength: 8 }).filter((l) => !l.startsWith("-") && !l.endsWith("-"));
const host = fc.oneof(
  fc.array(label, { minLength: 2, maxLength: 3 }).map((ls) => ls.join(".")),
  fc.constantFrom("localhost", "docker.io", "index.docker.io", "registry-1.docker.io", "127.0.0.1", "[::1]", "[fe80::1]", "Registry.Example.COM"),
);
const domain = fc.tuple(host, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined })).map(([h, p]) => (p === undefined ? h : `${h}:${p}`));
const tag = fc
  .tuple(chars(`${LOWER}ABCXYZ_`), fc.string({ unit: chars(`${LOWER}ABC_.-`), maxLength: 20 }))
  .map(([h, t]) => h + t);
const digest = fc.oneof(
  fc.string({ unit: chars("0123456789abcdef"), minLength: 64, maxLength: 64 }).map((h) => `sha256:${h}`),
  fc.string({ unit: chars("0123456789abcdef"), minLength: 128, maxLength: 128 }).map((h) => `sha512:${h}`),
  fc.string({ unit: chars("0123456789abcdefABCDEF"), minLength: 32, maxLength: 40 }).map((h) => `multihash+base58:${h}`),
);
/** Valid references, as generated parts and as written. */
const reference = fc
  .record({ domain: fc.option(domain, { nil: undefined }), path, tag: fc.option(tag, { nil: undefined }), digest: fc.option(digest, { nil: undefined }) })
  .map((r) => ({ ...r, written: `${r.domain ? `${r.domain}/` : ""}${r.path}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}` }))
  // without a domain, a first component with "." (or "localhost") would be read as the domain, as Docker does
  .filter((r) => r.domain !== undefined || (!r.path.split("/")[0]!.includes(".") && r.path.split("/")[0] !== "localhost"))
  .filter((r) => `${r.domain ?? DOCKER_HUB}/library/${r.path}`.length <= NAME_TOTAL_MAX);

/** The fields that identify the image (not how it was written). */
const identity = (r: ImageReference) => ({ domain: r.domain, path: r.path, tag: r.tag ?? (r.digest ? undefined : "latest"), digest: r.digest, name: r.name, normalized: r.normalized });

describe("parseReference (fuzz)", { timeout: 30_000 }, () => {
  it("throws nothing but ReferenceError, on any string", () => {
    const noisy = fc.string({ unit: chars("a/.:@_-A0[] \t\n%é"), maxLength: 60 });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: anyChar, maxLength: 120 }), fc.string({ unit: "grapheme", maxLength: 20 }), noisy), (input) => {
        const r = tryParse(input);
        if (r instanceof ReferenceError) {
          expect(r.input).toBe(input);
          expect(r.message.length).toBeGreaterThan(0);
          return;
        }
        expect(r.original).toBe(input);
        expect(r.name.length).toBeLessThanOrEqual(NAME_TOTAL_MAX);
        expect(r.path.split("/").every((c) => PATH_COMPONENT_RE.test(c))).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it("parses every generated valid reference to its parts, and its normalized form to the same image", () => {
    fc.assert(
      fc.property(reference, (g) => {
        const r = parseReference(g.written);
        const hub = g.domain === undefined || isDockerHub(g.domain);
        expect(r.domain).toBe(hub ? DOCKER_HUB : g.domain);
        expect(r.path).toBe(hub && !g.path.includes("/") ? `library/${g.path}` : g.path);
        expect(r.tag).toBe(g.tag);
        expect(r.digest).toBe(g.digest);
        expect(r.writtenName).toBe(`${g.domain ? `${g.domain}/` : ""}${g.path}`);
        expect(r.impliedLatest).toBe(g.tag === undefined && g.digest === undefined);
        expect(manifestReference(r)).toBe(g.digest ?? g.tag ?? "latest");
        expect(apiHostFor(r.domain)).toBe(hub ? DOCKER_HUB_API : r.domain);
        // normalized and name are themselves references to the same image
        expect(identity(parseReference(r.normalized))).toEqual(identity(r));
        expect(parseReference(r.name).name).toBe(r.name);
        expect(parseReference(r.normalized).normalized).toBe(r.normalized);
      }),
      { numRuns: 3000 },
    );
  });

  it("a valid reference with one character changed, inserted or deleted parses consistently or throws ReferenceError", () => {
    const mutated = fc
      .tuple(reference, fc.nat(), fc.constantFrom("replace", "insert", "delete"), fc.constantFrom(..."aZ09/.:@_-+ [] \u0000é\u{1F600}"))
      .map(([g, at, op, c]) => {
        const s = g.written;
        const i = at % (s.length + 1);
        return op === "insert" ? s.slice(0, i) + c + s.slice(i) : op === "delete" ? s.slice(0, i) + s.slice(i + 1) : s.slice(0, i) + c + s.slice(i + 1);
      });
    fc.assert(
      fc.property(mutated, (input) => {
        const r = tryParse(input);
        if (r instanceof ReferenceError) return;
        expect(identity(parseReference(r.normalized))).toEqual(identity(r));
        expect(r.name.length).toBeLessThanOrEqual(NAME_TOTAL_MAX);
      }),
      { numRuns: 5000 },
    );
  });

  it("stays linear: 64 KiB adversarial inputs in under 10 ms, and the longest accepted length (4096) too", () => {
    const shapes = (n: number): [string, string][] => [
      ["a…a!", `${"a".repeat(n)}!`],
      ["/a…", "/a".repeat(n / 2)],
      ["a/…!", `${"a/".repeat(n / 2)}!`],
      ["a.…", `${"a.".repeat(n / 2)}/x`],
      ["a:…", "a:".repeat(n / 2)],
      ["a-…!", `${"a-".repeat(n / 2)}!`],
      ["a_…", `${"a_".repeat(n / 2)}_`],
      ["a__…", `${"a__".repeat(n / 3)}!`],
      ["host a-…", `${"a".repeat(n / 2)}${"-".repeat(n / 2 - 4)}.io/x`],
      ["host A-…", `A${"a-".repeat(n / 2 - 4)}!/x`],
      ["ipv6", `[${":".repeat(n - 8)}!/x`],
      ["digest", `a@a${"a-".repeat(n / 2 - 4)}!`],
      ["digest hex", `a@sha256:${"a".repeat(n - 12)}!`],
      ["tag", `a:${"a".repeat(n - 3)}`],
      ["@…", "@".repeat(n)],
      ["spaces", ` ${"a".repeat(n - 2)} `],
      ["uppercase", `a/${"A".repeat(n - 2)}`],
    ];
    for (const n of [64 * 1024, 4096]) {
      for (const [label, input] of shapes(n)) {
        const ms = bestOf3(() => tryParse(input));
        expect(ms, `${label} (${input.length} chars): ${ms.toFixed(2)} ms`).toBeLessThan(10);
      }
    }
    // the exported component grammar is used by the proxy on its own; it must be linear too
    for (const [label, input] of shapes(64 * 1024)) {
      const ms = bestOf3(() => PATH_COMPONENT_RE.test(input));
      expect(ms, `PATH_COMPONENT_RE ${label}: ${ms.toFixed(2)} ms`).toBeLessThan(10);
    }
  });
});
