import { describe, expect, it } from "vitest";
import { parseWwwAuthenticate, pickChallenge } from "@/lib/registry-client/challenge";

describe("parseWwwAuthenticate", () => {
  it("parses Docker Hub's Bearer challenge with a quoted comma in scope", () => {
    const [c] = parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"');
    expect(c).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:samalba/my-app:pull,push" },
    });
  });

  it("parses the error param, unquoted values, spaces and escaped quotes", () => {
    const [c] = parseWwwAuthenticate('Bearer realm="http://127.0.0.1:1/token", service=svc , scope="repository:a:pull",error="insufficient_scope", note="say \\"hi\\""');
    expect(c?.params).toEqual({ realm: "http://127.0.0.1:1/token", service: "svc", scope: "repository:a:pull", error: "insufficient_scope", note: 'say "hi"' });
  });

  it("parses Basic and several challenges in one header, preferring Bearer", () => {
    const all = parseWwwAuthenticate('Basic realm="basic-realm", Bearer realm="https://t/x",service="s"');
    expect(all.map((c) => c.scheme)).toEqual(["basic", "bearer"]);
    expect(pickChallenge(all)?.scheme).toBe("bearer");
    expect(pickChallenge(parseWwwAuthenticate('Basic realm="Registry Realm"'))?.params.realm).toBe("Registry Realm");
  });

  it("returns nothing for empty or garbage headers", () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
    expect(parseWwwAuthenticate("")).toEqual([]);
    expect(pickChallenge(parseWwwAuthenticate("Negotiate abc"))).toBeUndefined();
  });
});
