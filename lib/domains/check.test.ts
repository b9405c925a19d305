import { describe, expect, it } from "vitest";
import type { DnsCheck } from "./dns";
import { nextState } from "./check";
import { failsInHours } from "./present";

const now = new Date("2026-12-01T00:00:00Z");
const dns = (record: DnsCheck["record"], ok: boolean | null = true): DnsCheck => ({ record, ...(record === "error" ? { error: "ESERVFAIL" } : {}), target: { ok, detail: ok === false ? "images.acme.test points elsewhere (192.0.2.1), not at gantry.test" : "CNAME gantry.test" } });
const d = (status: string, misses = 0) => ({ name: "images.acme.test", status, misses });

describe("the verification state machine", () => {
  it("verifies from any state when the record is found, and logs only a change", () => {
    for (const status of ["pending", "failed"]) expect(nextState(d(status, 2), dns("found"), now)).toMatchObject({ status: "verified", misses: 0, event: "domain.verified", verifiedAt: now, failedAt: null });
    expect(nextState(d("verified", 1), dns("found"), now)).toMatchObject({ status: "verified", misses: 0, event: null });
  });

  it("counts misses against a verified domain and fails it at the second in a row", () => {
    const first = nextState(d("verified"), dns("missing"), now);
    expect(first).toMatchObject({ status: "verified", misses: 1, event: null, answered: true });
    expect(nextState(d("verified", first.misses), dns("missing"), now)).toMatchObject({ status: "failed", misses: 2, event: "domain.failed", failedAt: now });
    expect(nextState(d("pending"), dns("missing"), now)).toMatchObject({ status: "pending", misses: 0, event: null });
    expect(nextState(d("failed", 2), dns("missing"), now)).toMatchObject({ status: "failed", event: null });
  });

  it("changes nothing on a DNS error but the message", () => {
    for (const before of [d("pending"), d("verified", 1), d("failed", 2)]) {
      const out = nextState(before, dns("error"), now);
      expect(out).toMatchObject({ status: before.status, misses: before.misses, answered: false, event: null });
      expect(out.message).toMatch(/ESERVFAIL.*nothing changed/);
    }
  });

  it("warns, without failing, when the name points elsewhere", () => {
    expect(nextState(d("pending"), dns("found", false), now)).toMatchObject({ status: "verified", message: expect.stringMatching(/Warning: .*points elsewhere/) });
  });

  it("says how many hours are left before a missed domain fails", () => {
    expect(failsInHours({ status: "verified", misses: 1, nextCheckAt: new Date(now.getTime() + 23.5 * 3600_000) }, now)).toBe(24);
    expect(failsInHours({ status: "verified", misses: 1, nextCheckAt: new Date(now.getTime() - 1000) }, now)).toBe(1);
    expect(failsInHours({ status: "verified", misses: 0, nextCheckAt: now }, now)).toBeNull();
    expect(failsInHours({ status: "failed", misses: 2, nextCheckAt: now }, now)).toBeNull();
  });
});
