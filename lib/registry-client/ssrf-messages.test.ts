import { describe, expect, it, vi } from "vitest";
import { probeImages } from "@/lib/rewrite/probe";
import { defaultHttpOptions, RegistryClient } from "@/lib/registry-client/client";

vi.mock("@/lib/log", () => ({ log: { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } }));

/** What users read about a blocked host names the host, never the address it resolved to. */
const RESOLVED = /\b127\.0\.0\.1\b|::1|loopback/;

describe("SSRF refusals in users' words", () => {
  it("RegistryClient: localhost with an empty allowlist is 'blocked by the SSRF guard', without 127.0.0.1", async () => {
    const c = new RegistryClient({ endpoint: "https://localhost:5999", http: defaultHttpOptions([]) });
    const err = await c.checkAuth().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "blocked", message: expect.stringMatching(/localhost:5999 is blocked by the SSRF guard/) });
    expect((err as Error).message).not.toMatch(RESOLVED);
  });

  it("the probe's reason says the SSRF guard blocked it, without the resolved address", async () => {
    const [r] = await probeImages(["localhost:5999/acme/app:1"], {
      appSlug: "app",
      proxyDomain: "proxy.example.com",
      registryDomain: undefined,
      registries: [],
      allowedPrivateHosts: [],
      schemeFor: () => "https",
    });
    expect(r).toMatchObject({ status: "unreachable", reason: expect.stringMatching(/SSRF guard blocked it/) });
    expect(r?.reason).not.toMatch(RESOLVED);
  });
});
