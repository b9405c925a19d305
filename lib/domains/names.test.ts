import { describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/env";
import { hostWithoutPort, normalizeDomainName, ownHostNames, reservedProblem } from "./names";

describe("domain names", () => {
  it("normalizes case and a trailing dot, and refuses what is not a certificate-able host name", () => {
    expect(normalizeDomainName("  Images.ACME.com. ")).toBe("images.acme.com");
    expect(normalizeDomainName("a-b.c-d.example")).toBe("a-b.c-d.example");
    for (const bad of ["", "localhost", "acme.com:443", "https://acme.com", "acme.com/v2", "*.acme.com", "10.0.0.1", "-a.acme.com", "a-.acme.com", "a..b.com", `${"a".repeat(64)}.com`, `${"a.".repeat(127)}com`, "ex ample.com", "exämple.com"]) {
      expect(() => normalizeDomainName(bad), bad).toThrow();
    }
  });

  it("strips a port from a Host header (IPv6 literals kept in brackets)", () => {
    expect(hostWithoutPort("Images.Acme.com:8443")).toBe("images.acme.com");
    expect(hostWithoutPort("images.acme.com.")).toBe("images.acme.com");
    expect(hostWithoutPort("[::1]:3000")).toBe("[::1]");
    expect(hostWithoutPort("::1")).toBe("::1");
  });

  it("reserves Gantry's own host names and everything under them", () => {
    const config = parseEnv({ GANTRY_DATA_DIR: "/tmp/gantry-names-test", GANTRY_PUBLIC_URL: "https://portal.example.com", GANTRY_PROXY_URL: "https://pull.example.com:8443", GANTRY_REGISTRY_URL: "https://registry.example.com" }, () => {});
    expect(ownHostNames(config).sort()).toEqual(["portal.example.com", "pull.example.com", "registry.example.com"]);
    for (const taken of ["pull.example.com", "a.pull.example.com", "x.y.registry.example.com", "portal.example.com"]) expect(reservedProblem(taken, config), taken).toMatch(/cannot be claimed/);
    for (const free of ["example.com", "images.example.com", "notpull.example.com", "pull.example.com.evil.test"]) expect(reservedProblem(free, config), free).toBeNull();
  });
});
