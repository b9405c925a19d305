import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProxyError } from "@/lib/proxy/errors";
import { parseProxyPath, type ProxyRoute } from "@/lib/proxy/paths";
import { NAME_TOTAL_MAX, PATH_COMPONENT_RE } from "@/lib/registry-client/reference";
import { anyChar, bestOf3 } from "@/lib/testing/fuzz";

function tryParse(path: string): ProxyRoute | ProxyError {
  try {
    return parseProxyPath(path);
  } catch (e) {
    if (e instanceof ProxyError) return e;
    throw e;
  }
}

/** What every route that names a repository must satisfy. */
function checkRoute(r: ProxyRoute): void {
  if (!("name" in r)) return;
  const { full, appSlug, upstream, repository } = r.name;
  expect(full.length).toBeLessThanOrEqual(NAME_TOTAL_MAX);
  expect(full).toBe(`proxy/${appSlug}/${upstream}/${repository}`);
  for (const c of full.split("/")) expect(c).toMatch(PATH_COMPONENT_RE);
}

const chars = (s: string) => fc.constantFrom(...s);
const alnum = fc.string({ unit: chars("abcdefghijklmnopqrstuvwxyz0123456789"), minLength: 1, maxLength: 5 });
const separator = fc.constantFrom(".", "_", "__", "-", "--");
const component = fc.tuple(alnum, fc.array(fc.tuple(separator, alnum), { maxLength: 2 })).map(([h, t]) => h + t.map(([s, a]) => s + a).join(""));
const repository = fc.array(component, { minLength: 1, maxLength: 4 }).map((cs) => cs.join("/"));
const digest = fc.string({ unit: chars("0123456789abcdef"), minLength: 64, maxLength: 64 }).map((h) => `sha256:${h}`);
const tag = fc.tuple(chars("abcXYZ019_"), fc.string({ unit: chars("abcXYZ019_.-"), maxLength: 30 })).map(([h, t]) => h + t);

const route = fc
  .record({
    appSlug: component,
    upstream: component,
    repository,
    kind: fc.constantFrom("manifests", "blobs", "tags"),
    tag,
    digest,
    byDigest: fc.boolean(),
  })
  .map((g) => {
    const full = `proxy/${g.appSlug}/${g.upstream}/${g.repository}`;
    const reference = g.kind === "blobs" || g.byDigest ? g.digest : g.tag;
    const path = g.kind === "tags" ? `/v2/${full}/tags/list` : `/v2/${full}/${g.kind}/${reference}`;
    return { ...g, full, reference, path };
  })
  .filter((g) => g.full.length <= NAME_TOTAL_MAX);

describe("parseProxyPath (fuzz)", { timeout: 30_000 }, () => {
  it("throws nothing but ProxyError (400 or 404), on any string", () => {
    const noisy = fc.string({ unit: chars("/v2proxyamnifestblobstagslist.:_-%@\n A"), maxLength: 80 }).map((s) => `/v2/${s}`);
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: anyChar, maxLength: 120 }), noisy), (path) => {
        const r = tryParse(path);
        if (r instanceof ProxyError) {
          expect([400, 404]).toContain(r.status);
          return;
        }
        checkRoute(r);
      }),
      { numRuns: 5000 },
    );
  });

  it("routes every generated valid path to its parts", () => {
    fc.assert(
      fc.property(route, (g) => {
        const r = parseProxyPath(g.path);
        const name = { full: g.full, appSlug: g.appSlug, upstream: g.upstream, repository: g.repository };
        expect(r).toEqual(g.kind === "tags" ? { kind: "tags", name } : { kind: g.kind, name, reference: g.reference });
      }),
      { numRuns: 3000 },
    );
  });

  it("a valid path with one character changed, inserted or deleted routes consistently or throws ProxyError", () => {
    const mutated = fc
      .tuple(route, fc.nat(), fc.constantFrom("replace", "insert", "delete"), chars("a/.:_-%@\n \u0000AZé"))
      .map(([g, at, op, c]) => {
        const s = g.path;
        const i = at % (s.length + 1);
        return op === "insert" ? s.slice(0, i) + c + s.slice(i) : op === "delete" ? s.slice(0, i) + s.slice(i + 1) : s.slice(0, i) + c + s.slice(i + 1);
      });
    fc.assert(
      fc.property(mutated, (path) => {
        const r = tryParse(path);
        if (!(r instanceof ProxyError)) checkRoute(r);
      }),
      { numRuns: 5000 },
    );
  });

  it("stays linear: 64 KiB adversarial paths in under 10 ms", () => {
    const N = 64 * 1024;
    const shapes: [string, string][] = [
      ["a/…", `/v2/${"a/".repeat(N / 2)}`],
      ["a…", `/v2/${"a".repeat(N)}`],
      ["/…", `/v2/${"/".repeat(N)}`],
      ["x/manifests/…", `/v2/${"x/manifests/".repeat(N / 12)}`],
      ["/manifests/a…/", `/v2/${"/manifests/a".repeat(N / 12)}/`],
      ["/tags/list/…", `/v2/${"/tags/list/".repeat(N / 11)}x`],
      ["valid name, long tag", `/v2/proxy/a/b/c/manifests/${"a".repeat(N)}`],
      ["valid name, long digest", `/v2/proxy/a/b/c/blobs/sha256:${"a-".repeat(N / 2)}!`],
      ["digest separators", `/v2/proxy/a/b/c/blobs/${"a.".repeat(N / 2)}:x`],
      ["long name", `/v2/proxy/a/b/${"a-".repeat(N / 2)}/manifests/1`],
      ["newlines", `/v2/${"a\n".repeat(N / 2)}/manifests/1`],
    ];
    for (const [label, path] of shapes) {
      const ms = bestOf3(() => tryParse(path));
      expect(ms, `${label}: ${ms.toFixed(2)} ms`).toBeLessThan(10);
    }
  });
});
