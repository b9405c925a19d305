import { describe, expect, it } from "vitest";
import { ProxyError } from "@/lib/proxy/errors";
import { parseProxyPath } from "@/lib/proxy/paths";

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
