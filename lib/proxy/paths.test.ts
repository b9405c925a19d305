import { describe, expect, it } from "vitest";
import { ProxyError } from "@/lib/proxy/errors";
import { digestProblem, parseProxyPath } from "@/lib/proxy/paths";

const D = `sha256:${"c".repeat(64)}`;

describe("parseProxyPath", () => {
  it("routes the registry API paths", () => {
    expect(parseProxyPath("/v2/")).toEqual({ kind: "base" });
    expect(parseProxyPath("/v2/token")).toEqual({ kind: "token" });
    expect(parseProxyPath("/v2/proxy/acme/quay.io/org/api/manifests/1.0")).toEqual({
      kind: "manifests",
      reference: "1.0",
      name: { full: "proxy/acme/quay.io/org/api", appSlug: "acme", upstream: "quay.io", repository: "org/api" },
    });
    expect(parseProxyPath(`/v2/proxy/acme/127.0.0.1_5000/api/blobs/${D}`)).toMatchObject({ kind: "blobs", reference: D, name: { upstream: "127.0.0.1_5000", repository: "api" } });
    expect(parseProxyPath("/v2/proxy/acme/docker.io/library/nginx/tags/list")).toMatchObject({ kind: "tags", name: { repository: "library/nginx" } });
  });

  it.each([
    "/v2/proxy/acme/../../etc/manifests/x",
    "/v2/proxy/acme/%2e%2e/x/manifests/1",
    "/v2/proxy//quay.io/x/manifests/1",
    "/v2/proxy/acme/quay.io//x/manifests/1",
    "/v2/proxy/acme/quay.io/X/manifests/1",
    `/v2/proxy/acme/quay.io/${"a/".repeat(130)}x/manifests/1`,
    "/v2/proxy/acme/quay.io/x/blobs/not-a-digest",
    "/v2/proxy/acme/quay.io/x/manifests/-bad",
    "/v2/proxy/acme/quay.io@evil.com/x/manifests/1",
  ])("refuses %s with a registry error, before any lookup", (p) => {
    expect(() => parseProxyPath(p)).toThrow(ProxyError);
    try {
      parseProxyPath(p);
    } catch (e) {
      expect([400, 404]).toContain((e as ProxyError).status);
    }
  });

  it("answers NAME_UNKNOWN for names outside proxy/<app>/<upstream>/<repo>", () => {
    expect(() => parseProxyPath("/v2/library/nginx/manifests/latest")).toThrow(expect.objectContaining({ code: "NAME_UNKNOWN", status: 404 }));
    expect(() => parseProxyPath("/v2/proxy/acme/quay.io/manifests/latest")).toThrow(expect.objectContaining({ code: "NAME_UNKNOWN" }));
  });
});

describe("references the spec lets the registry decide", () => {
  const base = "/v2/proxy/acme/quay.io/acme/api";
  it("answers 404 MANIFEST_UNKNOWN for a tag that cannot exist, and 400 DIGEST_INVALID for a malformed digest", () => {
    expect(() => parseProxyPath(`${base}/manifests/.INVALID_MANIFEST_NAME`)).toThrow(expect.objectContaining({ code: "MANIFEST_UNKNOWN", status: 404 }));
    expect(() => parseProxyPath(`${base}/manifests/sha256:totallywrong`)).toThrow(expect.objectContaining({ code: "DIGEST_INVALID", status: 400 }));
    expect(() => parseProxyPath(`${base}/blobs/latest`)).toThrow(expect.objectContaining({ code: "DIGEST_INVALID", status: 400 }));
    expect(parseProxyPath(`${base}/manifests/sha256:${"a".repeat(64)}`)).toMatchObject({ kind: "manifests" });
  });

  it("knows the digest algorithms and their lengths", () => {
    expect(digestProblem(`sha256:${"0".repeat(64)}`)).toBeNull();
    expect(digestProblem(`sha512:${"f".repeat(128)}`)).toBeNull();
    expect(digestProblem(`sha256:${"0".repeat(63)}`)).toMatch(/64 lowercase hex/);
    expect(digestProblem(`sha256:${"A".repeat(64)}`)).toMatch(/lowercase/);
    expect(digestProblem(`md5:${"0".repeat(32)}`)).toMatch(/not supported/);
    expect(digestProblem("sha256")).toMatch(/algorithm:encoded/);
  });
});
