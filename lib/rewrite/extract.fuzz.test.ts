import fc from "fast-check";
import YAML from "yaml";
import { describe, expect, it, vi } from "vitest";
import { extractImages, ManifestError, type ManifestFile } from "@/lib/rewrite/extract";
import { anyChar, bestOf3 } from "@/lib/testing/fuzz";

type Result = ReturnType<typeof extractImages>;
function tryExtract(files: ManifestFile[]): Result | ManifestError {
  try {
    return extractImages(files);
  } catch (e) {
    if (e instanceof ManifestError) return e;
    throw e;
  }
}

const chars = (s: string) => fc.constantFrom(...s);

/** YAML-shaped noise: indicators, anchors, aliases, tags, directives, merge keys, Kubernetes keys. */
const yamlToken = fc.constantFrom(
  "\n", "  ", " ", "- ", ": ", "? ", "{", "}", "[", "]", ",", "'", '"', "\\", "#", "|", ">", "&a ", "*a", "!!str ", "!!map ", "!!binary ", "!!set ", "!!omap ",
  "<<: ", "---\n", "...\n", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "!x ", "kind: Pod\n", "spec:", "containers:", "image:", "toString", "valueOf", "__proto__",
  "template:", "a", "1", "null", "~", "\t",
);
const yamlNoise = fc.array(yamlToken, { maxLength: 40 }).map((ts) => ts.join(""));

/** Values a manifest might hold where an image (or pull secret name) belongs, including hostile ones. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom("nginx:1.27", "quay.io/acme/api@sha256:" + "a".repeat(64), ""),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(fc.constantFrom("toString", "valueOf", "name", "__proto__", "constructor", "a"), fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.constant(null)), { maxKeys: 3 }),
  fc.array(fc.oneof(fc.integer(), fc.dictionary(fc.constantFrom("toString", "valueOf"), fc.integer(), { maxKeys: 2 })), { maxLength: 3 }),
);
const container = fc.record({ name: fc.string({ unit: chars("abc-"), maxLength: 6 }), image: oddValue }, { requiredKeys: ["name"] });
const podSpec = fc.record(
  {
    containers: fc.array(container, { maxLength: 3 }),
    initContainers: fc.array(container, { maxLength: 2 }),
    ephemeralContainers: fc.array(container, { maxLength: 1 }),
    imagePullSecrets: fc.array(fc.oneof(fc.record({ name: oddValue }), oddValue), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);
const workload = fc.oneof(
  fc.record({ apiVersion: fc.constant("v1"), kind: fc.constant("Pod"), metadata: fc.record({ name: oddValue, namespace: oddValue }), spec: podSpec }),
  fc.record({ apiVersion: fc.constant("apps/v1"), kind: fc.constantFrom("Deployment", "StatefulSet", "DaemonSet", "Custom"), metadata: oddValue, spec: fc.record({ template: fc.record({ spec: podSpec }) }) }),
  fc.record({ apiVersion: fc.constant("batch/v1"), kind: fc.constant("CronJob"), spec: fc.record({ jobTemplate: fc.record({ spec: fc.record({ template: fc.record({ spec: podSpec }) }) }) }) }),
  fc.record({ apiVersion: fc.constant("v1"), kind: fc.constant("PodTemplate"), template: fc.record({ spec: podSpec }) }),
  oddValue,
);
/** A generated multi-document stream, as Kubernetes objects and as text. */
const stream = fc.array(workload, { minLength: 1, maxLength: 4 }).map((docs) => ({ docs, text: docs.map((d) => YAML.stringify(d)).join("---\n") }));

/** The images a stream holds, in document order, computed from the generated objects. */
function expectedImages(docs: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const d of docs) {
    if (!d || typeof d !== "object" || Array.isArray(d)) continue;
    const o = d as Record<string, unknown>;
    const path = o.kind === "Pod" ? ["spec"] : o.kind === "PodTemplate" ? ["template", "spec"] : o.kind === "CronJob" ? ["spec", "jobTemplate", "spec", "template", "spec"] : ["spec", "template", "spec"];
    let spec: unknown = o;
    for (const k of path) spec = spec && typeof spec === "object" ? (spec as Record<string, unknown>)[k] : undefined;
    for (const list of ["containers", "initContainers", "ephemeralContainers"]) {
      const cs = spec && typeof spec === "object" ? (spec as Record<string, unknown>)[list] : undefined;
      if (Array.isArray(cs)) for (const c of cs as Record<string, unknown>[]) if (c.image !== undefined) out.push(c.image);
    }
  }
  return out;
}

describe("extractImages (fuzz)", { timeout: 120_000 }, () => {
  // Found by the generated-workloads property (shrunk by hand from fast-check's
  // counterexamples): String() threw TypeError "Cannot convert object to
  // primitive value" on objects whose toString is data, not a function.
  it.each([
    ["an image that is {toString: 0}", "kind: Pod\nspec:\n  containers:\n    - image:\n        toString: 0\n", "[object Object]"],
    ["an image that is [{toString: 0}]", "kind: Deployment\nspec:\n  template:\n    spec:\n      initContainers:\n        - image:\n            - toString: 0\n", "[object Array]"],
    ["a value that is {valueOf: 1, toString: 2}", "kind: Pod\nspec: {containers: [{image: {valueOf: 1, toString: 2}}]}\n", "[object Object]"],
  ])("regression: %s", (_label, content, image) => {
    expect(extractImages([{ name: "r.yaml", content }]).occurrences.map((o) => o.image)).toEqual([image]);
  });

  // Found by the noise property: a collection used as a mapping key made yaml call
  // process.emitWarning with a piece of the (user-supplied) manifest.
  it("regression: a collection as a mapping key emits no process warning", () => {
    const spy = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      extractImages([{ name: "r.yaml", content: "? [a]\n: b\n{ image: x }: y\n" }]);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it("regression: a pull secret named {toString: 0}", () => {
    const content = "kind: PodTemplate\ntemplate:\n  spec:\n    initContainers: [{name: a, image: null}]\n    imagePullSecrets:\n      - name:\n          toString: 0\n      - name: ok\n";
    const { occurrences, workloads } = extractImages([{ name: "r.yaml", content }]);
    expect(occurrences.map((o) => o.image)).toEqual(["null"]);
    expect(workloads[0]?.existingPullSecrets).toEqual(["[object Object]", "ok"]);
  });

  it("throws nothing but ManifestError, on any text or YAML-shaped noise", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: anyChar, maxLength: 200 }), yamlNoise), (content) => {
        const r = tryExtract([{ name: "f.yaml", content }]);
        if (r instanceof ManifestError) return;
        for (const o of r.occurrences) expect(typeof o.image).toBe("string");
      }),
      { numRuns: 3000 },
    );
  });

  it("finds exactly the images of generated workloads, whatever values they hold", () => {
    fc.assert(
      fc.property(stream, ({ docs, text }) => {
        const r = tryExtract([{ name: "gen.yaml", content: text }]);
        if (r instanceof ManifestError) throw new Error(`refused a generated stream: ${r.message}`);
        const want = expectedImages(docs);
        expect(r.occurrences).toHaveLength(want.length);
        r.occurrences.forEach((o, i) => {
          expect(typeof o.image).toBe("string");
          if (typeof want[i] === "string") expect(o.image).toBe(want[i]);
          expect(o.line).toBeGreaterThan(0);
        });
        for (const w of r.workloads) for (const s of w.existingPullSecrets) expect(typeof s).toBe("string");
      }),
      // YAML.stringify + a full parse per case: ~1 ms each on a quiet machine, so 1000 runs, not 2000
      { numRuns: 1000 },
    );
  });

  it("a generated stream with one character changed, inserted or deleted parses or throws ManifestError", () => {
    const mutated = fc
      .tuple(stream, fc.nat(), fc.constantFrom("replace", "insert", "delete"), yamlToken)
      .map(([s, at, op, c]) => {
        const i = at % (s.text.length + 1);
        return op === "insert" ? s.text.slice(0, i) + c + s.text.slice(i) : op === "delete" ? s.text.slice(0, i) + s.text.slice(i + 1) : s.text.slice(0, i) + c + s.text.slice(i + 1);
      });
    fc.assert(
      fc.property(mutated, (content) => {
        tryExtract([{ name: "m.yaml", content }]);
      }),
      { numRuns: 1000 },
    );
  });

  it("stays linear on 64 KiB of adversarial YAML", () => {
    // The budget is the YAML library's, not ours. On a quiet 2-core machine
    // yaml@2.9 itself needs ~45-160 ms to parse 64 KiB of these shapes, and
    // extractImages adds little (measured, YAML.parseAllDocuments alone vs
    // extractImages: 64 KiB of "[" 142 vs 163 ms; "---\n" x 16k 72 vs 66 ms; a
    // 32k-item flow sequence 107 vs 116 ms; 6.5k keys 44 vs 50 ms). With other
    // suites running the same shapes took up to ~1.4 s, so the absolute budget
    // is a loose 2 s per 64 KiB, and linearity is checked by ratio: 16x the
    // input (4 KiB → 64 KiB) may take at most 64x the time (quadratic: 256x).
    const N = 64 * 1024;
    const shapes: [string, (n: number) => string][] = [
      ["many documents", (n) => "---\n".repeat(n / 4)],
      ["many pods", (n) => "kind: Pod\nspec: {containers: [{image: nginx}]}\n---\n".repeat(Math.floor(n / 48))],
      ["long plain scalar", (n) => `image: ${"x".repeat(n)}`],
      ["long quoted scalar with escapes", (n) => `image: "${'\\"'.repeat(n / 2)}"`],
      ["deeply nested flow", (n) => "[".repeat(n)],
      ["deeply nested maps", (n) => "{".repeat(n)],
      ["nested block sequences", (n) => "- ".repeat(n / 2)],
      ["long flow sequence", (n) => `[${"a,".repeat(n / 2)}]`],
      ["many keys", (n) => Array.from({ length: Math.floor(n / 10) }, (_, i) => `k${i}: v`).join("\n")],
      ["many aliases", (n) => `a: &a x\nb: [${"*a, ".repeat(n / 4)}]`],
      ["colons", (n) => ": ".repeat(n / 2)],
      ["comments", (n) => "#".repeat(n)],
    ];
    extractImages([{ name: "warm.yaml", content: "kind: Pod\nspec: {containers: [{image: nginx}]}\n" }]);
    for (const [label, make] of shapes) {
      const big = make(N);
      const small = make(N / 16);
      const msSmall = bestOf3(() => tryExtract([{ name: "small.yaml", content: small }]), Infinity);
      const msBig = bestOf3(() => tryExtract([{ name: "big.yaml", content: big }]), 64 * msSmall + 50);
      expect(msBig, `${label}: ${msBig.toFixed(1)} ms for ${big.length} chars`).toBeLessThan(2000);
      expect(msBig, `${label}: ${msSmall.toFixed(1)} ms → ${msBig.toFixed(1)} ms for 16x the input`).toBeLessThan(64 * msSmall + 50);
    }
  });
});
