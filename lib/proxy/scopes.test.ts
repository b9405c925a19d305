import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_SCOPE_LENGTH, MAX_SCOPES, parseScopes, ScopeError, type TokenScope } from "@/lib/proxy/scopes";

const repo = (name: string, ...actions: string[]): TokenScope => ({ type: "repository", name, actions });

describe("parseScopes", () => {
  it.each<[string[], TokenScope[]]>([
    [[], []],
    [[""], []],
    [["repository:proxy/acme/quay.io/org/api:pull"], [repo("proxy/acme/quay.io/org/api", "pull")]],
    [["repository:proxy/acme/127.0.0.1_5000/x:pull"], [repo("proxy/acme/127.0.0.1_5000/x", "pull")]],
    [["repository:a/b:pull,push"], [repo("a/b", "pull", "push")]],
    [["repository:a:*"], [repo("a", "*")]],
    [["repository(plugin):a/b:pull"], [repo("a/b", "pull")]],
    [["repository:a__b/c-d.e_f---g:delete"], [repo("a__b/c-d.e_f---g", "delete")]],
    // several scopes in one parameter, stray spaces, several parameters
    [["  repository:a:pull  repository:b:push "], [repo("a", "pull"), repo("b", "push")]],
    [["repository:a:pull", "repository:b:pull"], [repo("a", "pull"), repo("b", "pull")]],
    // duplicates merge their actions, in first-seen order
    [["repository:a:pull repository:a:push,pull", "repository(x):a:pull"], [repo("a", "pull", "push")]],
    [["repository:a:pull,pull"], [repo("a", "pull")]],
    // other resource types are ignored, not refused
    [["registry:catalog:*"], []],
    [["registry:catalog:* repository:a:pull"], [repo("a", "pull")]],
    [["plugin(x):some/name:pull"], []],
    [["registry:host:5000:pull"], []],
    // a name of exactly NAME_TOTAL_MAX characters
    [[`repository:${"a".repeat(255)}:pull`], [repo("a".repeat(255), "pull")]],
  ])("%j", (params, expected) => {
    expect(parseScopes(params)).toEqual(expected);
  });

  it.each<[string[], RegExp]>([
    [["repository"], /expected type:name:actions/],
    [["repository:a"], /expected type:name:actions/],
    [["repository::pull"], /no repository name/],
    [["repository:a:"], /no actions/],
    [["repository:a:pull,"], /empty action/],
    [["repository:a:,pull"], /empty action/],
    [["repository:a:Pull"], /invalid action/],
    [["repository:a:pull!"], /invalid action/],
    [["repository:A/b:pull"], /invalid repository name/],
    [["repository:a//b:pull"], /empty path component/],
    [["repository:/a:pull"], /empty path component/],
    [["repository:a/:pull"], /empty path component/],
    [["repository:../etc:pull"], /invalid repository name/],
    [["repository:a-:pull"], /invalid repository name/],
    [["repository:%2e%2e/x:pull"], /invalid repository name/],
    // ':' separates the parts, so a registry port makes the name invalid
    [["repository:localhost:5000/x:pull"], /invalid repository name/],
    [["repository:proxy/acme/127.0.0.1:5000/x:pull"], /invalid repository name/],
    [[`repository:${"a".repeat(256)}:pull`], /at most 255/],
    [["repository(:a:pull"], /invalid resource class/],
    [["repository(a-b):a:pull"], /invalid resource class/],
    [["Repository:a:pull"], /invalid resource type/],
    [[":a:pull"], /invalid resource type/],
    [["registry::*"], /no resource name/],
    [["registry:catalog:"], /no actions/],
    [[Array.from({ length: MAX_SCOPES + 1 }, (_, i) => `repository:a${i}:pull`).join(" ")], /Too many scopes/],
    [Array.from({ length: MAX_SCOPES + 1 }, () => "registry:catalog:*"), /Too many scopes/],
    [[`repository:${"a/".repeat(300)}a:pull`], /longer than 512/],
  ])("refuses %j", (params, reason) => {
    expect(() => parseScopes(params)).toThrow(ScopeError);
    expect(() => parseScopes(params)).toThrow(reason);
  });

  it("accepts exactly MAX_SCOPES scopes and MAX_SCOPE_LENGTH characters", () => {
    expect(parseScopes(Array.from({ length: MAX_SCOPES }, (_, i) => `repository:a${i}:pull`))).toHaveLength(MAX_SCOPES);
    const long = `registry:${"x".repeat(MAX_SCOPE_LENGTH - "registry::*".length)}:*`;
    expect(long).toHaveLength(MAX_SCOPE_LENGTH);
    expect(parseScopes([long])).toEqual([]);
  });

  it("echoes at most ~80 characters of the scope in its message", () => {
    const e = (() => {
      try {
        parseScopes([`repository:${"A".repeat(400)}:pull`]);
      } catch (err) {
        return err as ScopeError;
      }
    })();
    expect(e).toBeInstanceOf(ScopeError);
    expect(e?.name).toBe("ScopeError");
    expect(e?.message).toMatch(/^Malformed scope "repository:A+…": /);
    expect(e!.message.indexOf("…")).toBeLessThanOrEqual(100);
  });
});

// --- properties ---------------------------------------------------------------

const alnum = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789"), minLength: 1, maxLength: 6 });
const separator = fc.constantFrom(".", "_", "__", "-", "--");
const component = fc
  .tuple(alnum, fc.array(fc.tuple(separator, alnum), { maxLength: 3 }))
  .map(([head, tail]) => head + tail.map(([s, a]) => s + a).join(""));
const repoName = fc.array(component, { minLength: 1, maxLength: 5 }).map((cs) => cs.join("/"));
const action = fc.constantFrom("pull", "push", "delete", "*");
const actions = fc.uniqueArray(action, { minLength: 1, maxLength: 4 });
const scopeList = fc.array(fc.record({ name: repoName, actions }), { maxLength: MAX_SCOPES });

const serialize = (scopes: { name: string; actions: string[] }[]) => scopes.map((s) => `repository:${s.name}:${s.actions.join(",")}`);

/** What parsing should give: one entry per name, actions merged in first-seen order. */
function expected(scopes: { name: string; actions: string[] }[]): TokenScope[] {
  const m = new Map<string, string[]>();
  for (const s of scopes) {
    const list = m.get(s.name) ?? [];
    for (const a of s.actions) if (!list.includes(a)) list.push(a);
    m.set(s.name, list);
  }
  return [...m].map(([name, acts]) => repo(name, ...acts));
}

describe("parseScopes properties", { timeout: 30_000 }, () => {
  it("round-trips generated scopes, however they are spread over parameters", () => {
    fc.assert(
      fc.property(scopeList, fc.nat(3), (scopes, split) => {
        const pieces = serialize(scopes);
        const params = split === 0 ? [pieces.join(" ")] : split === 1 ? pieces : [pieces.slice(0, 2).join("  "), ...pieces.slice(2)];
        const parsed = parseScopes(params);
        expect(parsed).toEqual(expected(scopes));
        // and what came out serializes back to the same list
        expect(parseScopes(serialize(parsed))).toEqual(parsed);
      }),
      { numRuns: 2000 },
    );
  });

  it("throws nothing but ScopeError, and what it returns is well-formed", () => {
    const noisy = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: fc.constantFrom("repository", "(", ")", ":", "/", ",", " ", "a", "A", ".", "_", "-", "pull", "*"), maxLength: 30 }),
    );
    fc.assert(
      fc.property(fc.array(noisy, { maxLength: 4 }), (params) => {
        try {
          const out = parseScopes(params);
          expect(out.length).toBeLessThanOrEqual(MAX_SCOPES);
          expect(new Set(out.map((s) => s.name)).size).toBe(out.length);
          for (const s of out) {
            expect(s.name).toMatch(/^[a-z0-9._/-]+$/);
            expect(s.actions.length).toBeGreaterThan(0);
            for (const a of s.actions) expect(a).toMatch(/^[a-z*]+$/);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(ScopeError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("parses or refuses a 64 KiB adversarial input in under 10 ms", () => {
    const N = 64 * 1024;
    const shapes = [
      `repository:${"a/".repeat(N / 2)}:pull`,
      `repository:${"a:".repeat(N / 2)}`,
      "repository:a:pull ".repeat(N / 18),
      " ".repeat(N),
      `repository:a:${"pull,".repeat(N / 5)}`,
      "a".repeat(N),
    ];
    for (const input of shapes) {
      let best = Infinity;
      for (let k = 0; k < 3; k++) {
        const t0 = performance.now();
        try {
          parseScopes([input]);
        } catch (e) {
          expect(e).toBeInstanceOf(ScopeError);
        }
        best = Math.min(best, performance.now() - t0);
      }
      expect(best, `${input.slice(0, 30)}… took ${best.toFixed(2)} ms`).toBeLessThan(10);
    }
    // many short parameters: refused as soon as the count passes MAX_SCOPES
    const many = Array.from({ length: N }, () => "repository:a:pull");
    expect(() => parseScopes(many)).toThrow(/Too many/);
    let best = Infinity;
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      expect(() => parseScopes(many)).toThrow(ScopeError);
      best = Math.min(best, performance.now() - t0);
    }
    expect(best).toBeLessThan(10);
  });
});
