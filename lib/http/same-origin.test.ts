import { describe, expect, it } from "vitest";
import { crossOriginProblem, isStateChangingMethod } from "./same-origin";

const h = (values: Record<string, string>) => new Headers(values);

describe("crossOriginProblem", () => {
  it("lets safe methods through whatever the Origin", () => {
    for (const m of ["GET", "HEAD", "OPTIONS"]) {
      expect(isStateChangingMethod(m)).toBe(false);
      expect(crossOriginProblem(m, h({ host: "gantry.test", origin: "https://evil.example" }), false)).toBeNull();
    }
  });

  it("accepts a same-host Origin on every state-changing method", () => {
    for (const m of ["POST", "PUT", "PATCH", "DELETE", "post"]) {
      expect(crossOriginProblem(m, h({ host: "127.0.0.1:3100", origin: "http://127.0.0.1:3100" }), false)).toBeNull();
    }
    expect(crossOriginProblem("POST", h({ host: "Gantry.Test", origin: "https://gantry.test" }), false)).toBeNull();
    expect(crossOriginProblem("POST", h({ host: "gantry.test:443", origin: "https://gantry.test" }), false)).toBeNull();
  });

  it("refuses a missing, null, malformed or foreign Origin", () => {
    const host = { host: "gantry.test" };
    expect(crossOriginProblem("POST", h(host), false)).toMatch(/no Origin/);
    expect(crossOriginProblem("POST", h({ ...host, origin: "null" }), false)).toMatch(/no Origin/);
    expect(crossOriginProblem("POST", h({ ...host, origin: "not a url" }), false)).toMatch(/not a valid/);
    expect(crossOriginProblem("POST", h({ ...host, origin: "file:///etc" }), false)).toMatch(/not a valid/);
    expect(crossOriginProblem("POST", h({ ...host, origin: "https://evil.example" }), false)).toMatch(/Cross-origin/);
    expect(crossOriginProblem("POST", h({ ...host, origin: "https://gantry.test.evil.example" }), false)).toMatch(/Cross-origin/);
    expect(crossOriginProblem("POST", h({ ...host, origin: "https://gantry.test:8443" }), false)).toMatch(/Cross-origin/);
    expect(crossOriginProblem("DELETE", h({ origin: "https://gantry.test" }), false)).toMatch(/Cross-origin/);
  });

  it("only considers X-Forwarded-Host behind a trusted proxy", () => {
    const headers = h({ host: "10.0.0.5:3000", "x-forwarded-host": "gantry.example.com, 10.0.0.5", origin: "https://gantry.example.com" });
    expect(crossOriginProblem("POST", headers, false)).toMatch(/Cross-origin/);
    expect(crossOriginProblem("POST", headers, true)).toBeNull();
    // A forged X-Forwarded-Host from an untrusted client changes nothing.
    const forged = h({ host: "gantry.test", "x-forwarded-host": "evil.example", origin: "https://evil.example" });
    expect(crossOriginProblem("POST", forged, false)).toMatch(/Cross-origin/);
  });
});
