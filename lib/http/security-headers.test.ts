import { describe, expect, it } from "vitest";
import {
  API_CONTENT_SECURITY_POLICY,
  HSTS_VALUE,
  STATIC_SECURITY_HEADERS,
  contentSecurityPolicy,
  generateNonce,
  isHttpsRequest,
  nonceOf,
  setTransportSecurityHeaders,
  transportSecurityHeaders,
} from "./security-headers";

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy.split(";").map((d) => {
      const [name = "", ...values] = d.trim().split(/\s+/);
      return [name, values];
    }),
  );
}

describe("generateNonce", () => {
  it("is 128 random bits in base64, different every time", () => {
    const seen = new Set(Array.from({ length: 200 }, generateNonce));
    expect(seen.size).toBe(200);
    for (const n of seen) expect(n).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  });
});

describe("contentSecurityPolicy", () => {
  it("has the required directives, with the nonce and strict-dynamic for scripts", () => {
    const d = directives(contentSecurityPolicy("abc123=="));
    expect(d.get("default-src")).toEqual(["'self'"]);
    expect(d.get("script-src")).toEqual(["'self'", "'nonce-abc123=='", "'strict-dynamic'"]);
    expect(d.get("style-src")).toEqual(["'self'", "'unsafe-inline'"]);
    expect(d.get("img-src")).toEqual(["'self'", "data:", "blob:"]);
    expect(d.get("font-src")).toEqual(["'self'"]);
    expect(d.get("connect-src")).toEqual(["'self'"]);
    expect(d.get("object-src")).toEqual(["'none'"]);
    expect(d.get("base-uri")).toEqual(["'self'"]);
    expect(d.get("form-action")).toEqual(["'self'"]);
    expect(d.get("frame-ancestors")).toEqual(["'none'"]);
  });

  it("never allows eval or inline scripts in production; dev adds only 'unsafe-eval'", () => {
    const prod = contentSecurityPolicy(generateNonce());
    expect(prod).not.toContain("unsafe-eval");
    expect(directives(prod).get("script-src")).not.toContain("'unsafe-inline'");
    const dev = directives(contentSecurityPolicy("n0nce", { dev: true }));
    expect(dev.get("script-src")).toEqual(["'self'", "'nonce-n0nce'", "'strict-dynamic'", "'unsafe-eval'"]);
  });

  it("keeps a nonce out of style-src, where it would disable 'unsafe-inline'", () => {
    expect(directives(contentSecurityPolicy("n0nce")).get("style-src")?.join(" ")).not.toContain("nonce");
  });

  it("refuses a nonce that could break out of the header", () => {
    expect(() => contentSecurityPolicy("x'; script-src *")).toThrow();
    expect(() => contentSecurityPolicy("")).toThrow();
  });

  it("round-trips the nonce", () => {
    const n = generateNonce();
    expect(nonceOf(contentSecurityPolicy(n))).toBe(n);
    expect(nonceOf(API_CONTENT_SECURITY_POLICY)).toBeUndefined();
  });
});

describe("static headers", () => {
  it("deny framing, sniffing and cross-origin referrers", () => {
    expect(Object.fromEntries(STATIC_SECURITY_HEADERS.map((h) => [h.key, h.value]))).toEqual({
      "X-Frame-Options": "DENY",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "same-origin",
    });
    expect(directives(API_CONTENT_SECURITY_POLICY).get("frame-ancestors")).toEqual(["'none'"]);
    expect(directives(API_CONTENT_SECURITY_POLICY).get("default-src")).toEqual(["'none'"]);
  });
});

describe("isHttpsRequest", () => {
  it("trusts a TLS socket", () => {
    expect(isHttpsRequest({ encrypted: true, forwardedProto: undefined, trustProxy: false })).toBe(true);
    expect(isHttpsRequest({ encrypted: true, forwardedProto: "http", trustProxy: false })).toBe(true);
  });

  it("ignores X-Forwarded-Proto unless the proxy is trusted", () => {
    expect(isHttpsRequest({ encrypted: false, forwardedProto: "https", trustProxy: false })).toBe(false);
    expect(isHttpsRequest({ encrypted: false, forwardedProto: undefined, trustProxy: true })).toBe(false);
    expect(isHttpsRequest({ encrypted: false, forwardedProto: "https", trustProxy: true })).toBe(true);
    expect(isHttpsRequest({ encrypted: false, forwardedProto: "HTTPS, http", trustProxy: true })).toBe(true);
    expect(isHttpsRequest({ encrypted: false, forwardedProto: ["http", "https"], trustProxy: true })).toBe(false);
    expect(isHttpsRequest({ encrypted: false, forwardedProto: "http", trustProxy: true })).toBe(false);
  });
});

describe("transport headers", () => {
  it("always nosniff, HSTS only over https", () => {
    expect(transportSecurityHeaders(false)).toEqual({ "X-Content-Type-Options": "nosniff" });
    expect(transportSecurityHeaders(true)).toEqual({ "X-Content-Type-Options": "nosniff", "Strict-Transport-Security": HSTS_VALUE });
    expect(HSTS_VALUE).toBe("max-age=63072000; includeSubDomains");
  });

  it("sets them on a Node response from the request", () => {
    const set = (socket: object, headers: Record<string, string>, trust: boolean) => {
      const out: Record<string, string> = {};
      setTransportSecurityHeaders({ socket, headers }, { setHeader: (k: string, v: string) => (out[k] = v) }, trust);
      return out;
    };
    expect(set({}, {}, false)).toEqual({ "X-Content-Type-Options": "nosniff" });
    expect(set({ encrypted: true }, {}, false)["Strict-Transport-Security"]).toBe(HSTS_VALUE);
    expect(set({}, { "x-forwarded-proto": "https" }, false)["Strict-Transport-Security"]).toBeUndefined();
    expect(set({}, { "x-forwarded-proto": "https" }, true)["Strict-Transport-Security"]).toBe(HSTS_VALUE);
  });
});
