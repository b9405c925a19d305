import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_SCOPE_LENGTH, MAX_SCOPES, parseScopes, ScopeError, type TokenScope } from "@/lib/proxy/scopes";
import { NAME_TOTAL_MAX, PATH_COMPONENT_RE } from "@/lib/registry-client/reference";
import { anyChar, bestOf3 } from "@/lib/testing/fuzz";

function tryParse(params: string[]): TokenScope[] | ScopeError {
  try {
    return parseScopes(params);
  } catch (e) {
    if (e instanceof ScopeError) return e;
    throw e;
  }
}

function checkScopes(out: TokenScope[]): void {
  expect(out.length).toBeLessThanOrEqual(MAX_SCOPES);
  expect(new Set(out.map((s) => s.name)).size).toBe(out.length);
  for (const s of out) {
    expect(s.type).toBe("repository");
    expect(s.name.length).toBeLessThanOrEqual(NAME_TOTAL_MAX);
    for (const c of s.name.split("/")) expect(c).toMatch(PATH_COMPONENT_RE);
    expect(s.actions.length).toBeGreaterThan(0);
    expect(new Set(s.actions).size).toBe(s.actions.length);
    for (const a of s.actions) expect(a).toMatch(/^[a-z*]+$/);
  }
}

const chars = (s: string) => fc.constantFrom(...s);
const alnum = fc.string({ unit: chars("abcdefghijklmnopqrstuvwxyz0123456789"), minLength: 1, maxLength: 5 });
const component = fc.tuple(alnum, fc.array(fc.tuple(fc.constantFrom(".", "_", "__", "-"), alnum), { maxLength: 2 })).map(([h, t]) => h + t.map(([s, a]) => s + a).join(""));
const scope = fc
  .record({
    type: fc.constantFrom("repository", "repository(plugin)", "registry", "plugin(x)"),
    name: fc.array(component, { minLength: 1, maxLength: 4 }).map((cs) => cs.join("/")),
    actions: fc.uniqueArray(fc.constantFrom("pull", "push", "delete", "*"), { minLength: 1, maxLength: 3 }),
  })
  .map((s) => ({ ...s, text: `${s.type}:${s.name}:${s.actions.join(",")}` }));

describe("parseScopes (fuzz)", { timeout: 30_000 }, () => {
  it("throws nothing but ScopeError, on arbitrary parameter lists", () => {
    const param = fc.oneof(
      fc.string({ unit: anyChar, maxLength: 100 }),
      fc.string({ unit: fc.constantFrom("repository", "registry", "(", ")", ":", "/", ",", " ", "a", "Z", ".", "_", "-", "pull", "*", "\u0000", "é"), maxLength: 40 }),
    );
    fc.assert(
      fc.property(fc.array(param, { maxLength: 6 }), (params) => {
        const r = tryParse(params);
        if (r instanceof ScopeError) {
          expect(r.name).toBe("ScopeError");
          expect(r.message.length).toBeLessThan(300); // the echoed scope is truncated
          return;
        }
        checkScopes(r);
      }),
      { numRuns: 5000 },
    );
  });

  it("parses generated scopes of every type, keeping only repositories", () => {
    fc.assert(
      fc.property(fc.array(scope, { maxLength: MAX_SCOPES }), (list) => {
        const out = parseScopes([list.map((s) => s.text).join(" ")]);
        checkScopes(out);
        const repos = list.filter((s) => s.type.startsWith("repository"));
        expect(out.map((s) => s.name)).toEqual([...new Set(repos.map((s) => s.name))]);
        for (const s of out) expect(new Set(s.actions)).toEqual(new Set(repos.filter((r) => r.name === s.name).flatMap((r) => r.actions)));
        // serialized back, the result parses to itself
        expect(parseScopes(out.map((s) => `repository:${s.name}:${s.actions.join(",")}`))).toEqual(out);
      }),
      { numRuns: 3000 },
    );
  });

  it("a valid scope with one character changed, inserted or deleted parses to a well-formed scope or throws ScopeError", () => {
    const mutated = fc
      .tuple(scope, fc.nat(), fc.constantFrom("replace", "insert", "delete"), chars("a/.:_-,()* A\u0000é"))
      .map(([s, at, op, c]) => {
        const i = at % (s.text.length + 1);
        return op === "insert" ? s.text.slice(0, i) + c + s.text.slice(i) : op === "delete" ? s.text.slice(0, i) + s.text.slice(i + 1) : s.text.slice(0, i) + c + s.text.slice(i + 1);
      });
    fc.assert(
      fc.property(mutated, (text) => {
        const r = tryParse([text]);
        if (!(r instanceof ScopeError)) checkScopes(r);
      }),
      { numRuns: 5000 },
    );
  });

  it("stays linear: 64 KiB adversarial parameters in under 10 ms", () => {
    const N = 64 * 1024;
    const shapes: [string, string[]][] = [
      ["a/…", [`repository:${"a/".repeat(N / 2)}:pull`]],
      ["a:…", [`repository:${"a:".repeat(N / 2)}`]],
      ["a:/…", [`repository:${"a:/".repeat(N / 3)}pull`]],
      ["spaces", [" ".repeat(N)]],
      ["many scopes", ["repository:a:pull ".repeat(N / 18)]],
      ["many params", Array.from({ length: N / 8 }, () => "registry:catalog:*")],
      ["many empty params", Array.from({ length: N }, () => "")],
      ["long actions", [`repository:a:${"pull,".repeat(N / 5)}`]],
      ["one long word", ["a".repeat(N)]],
      ["parentheses", [`repository${"(".repeat(N)}:a:pull`]],
      ["just under the length limit, many", Array.from({ length: MAX_SCOPES }, () => `repository:${"a-".repeat((MAX_SCOPE_LENGTH - 20) / 2)}a:pull`)],
    ];
    for (const [label, params] of shapes) {
      const ms = bestOf3(() => tryParse(params));
      expect(ms, `${label}: ${ms.toFixed(2)} ms`).toBeLessThan(10);
    }
  });
});
