import { describe, expect, it } from "vitest";
import { checkAddress, EMPTY_ALLOWLIST, guardedLookup, nonPublicRange, parseAllowlist, SsrfBlockedError } from "@/lib/net/ssrf";

describe("SSRF guard", () => {
  const none = parseAllowlist([]);

  it.each([
    ["127.0.0.1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "linkLocal"],
    ["100.100.100.200", "carrierGradeNat"],
    ["0.0.0.0", "unspecified"],
    ["::1", "loopback"],
    ["fd00:ec2::254", "uniqueLocal"],
    ["fe80::1", "linkLocal"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:169.254.169.254", "linkLocal"],
    ["224.0.0.1", "multicast"],
  ])("refuses %s (%s)", (address, range) => {
    expect(nonPublicRange(address)).toBe(range);
    expect(() => checkAddress("registry.example.com", address, none)).toThrow(SsrfBlockedError);
  });

  it.each(["8.8.8.8", "52.1.2.3", "2606:4700::1111"])("lets public %s through", (address) => {
    expect(nonPublicRange(address)).toBeNull();
    expect(() => checkAddress("registry.example.com", address, none)).not.toThrow();
  });

  it("lets operator-listed CIDRs, single IPs and host names through, and nothing more", () => {
    const allow = parseAllowlist(["127.0.0.1/32", "10.0.0.0/8", "fd12::5", "Registry.Internal"]);
    expect(() => checkAddress("x", "127.0.0.1", allow)).not.toThrow();
    expect(() => checkAddress("x", "127.0.0.2", allow)).toThrow(SsrfBlockedError);
    expect(() => checkAddress("x", "10.9.8.7", allow)).not.toThrow();
    expect(() => checkAddress("x", "fd12::5", allow)).not.toThrow();
    expect(() => checkAddress("x", "fd12::6", allow)).toThrow(SsrfBlockedError);
    expect(() => checkAddress("registry.internal", "192.168.0.9", allow)).not.toThrow();
    expect(() => checkAddress("registry.internal.evil.com", "192.168.0.9", allow)).toThrow(SsrfBlockedError);
  });

  it("explains the refusal and how to allow it, without the resolved address (kept on the error for the log)", () => {
    try {
      checkAddress("metadata.internal", "169.254.169.254", none);
      expect.unreachable();
    } catch (e) {
      const err = e as SsrfBlockedError;
      expect(err.message).toMatch(/metadata\.internal.*SSRF guard.*GANTRY_ALLOWED_PRIVATE_HOSTS/);
      expect(err.message).not.toMatch(/169\.254|linkLocal/);
      expect(err).toMatchObject({ address: "169.254.169.254", range: "linkLocal" });
      expect(err.detail).toBe("169.254.169.254 (linkLocal)");
    }
  });

  it("the empty allowlist lets nothing private through", () => {
    expect(() => checkAddress("x", "127.0.0.1", EMPTY_ALLOWLIST)).toThrow(SsrfBlockedError);
    expect(() => checkAddress("x", "8.8.8.8", EMPTY_ALLOWLIST)).not.toThrow();
  });

  it("checks what DNS returns, not the name (localhost resolves to loopback)", async () => {
    const lookup = guardedLookup(none);
    const err = await new Promise<unknown>((resolve) => lookup("localhost", {}, (e) => resolve(e)));
    expect(err).toBeInstanceOf(SsrfBlockedError);
    // What a user may see names the host, never what it resolved to.
    expect((err as Error).message).toMatch(/localhost.*SSRF guard/);
    expect((err as Error).message).not.toMatch(/127\.0\.0\.1|::1|loopback/);
    const ok = await new Promise<string>((resolve, reject) =>
      guardedLookup(parseAllowlist(["127.0.0.0/8", "::1"]))("localhost", {}, (e, a) => (e ? reject(e) : resolve(a as string))),
    );
    expect(["127.0.0.1", "::1"]).toContain(ok);
  });
});
