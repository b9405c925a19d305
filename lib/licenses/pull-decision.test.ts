import { describe, expect, it } from "vitest";
import { decide, type LicenseForDecision } from "@/lib/licenses/pull-decision";

const now = new Date("2026-11-23T12:00:00Z");
const base: LicenseForDecision = { id: "l1", customerId: "c1", teamId: "t1", appId: "a1", appSlug: "acme", expiresAt: null, revokedAt: null };

describe("pull decision", () => {
  it("allows an active license of this app, with or without an expiry", () => {
    expect(decide(base, "acme", now)).toEqual({ allow: true, licenseRowId: "l1", customerId: "c1", appId: "a1", teamId: "t1", pin: { maxVersion: null, releasedBefore: null } });
    const pinned = { ...base, maxVersion: "1.2.0", releasedBefore: new Date("2026-01-01T00:00:00Z") };
    expect(decide(pinned, "acme", now)).toMatchObject({ allow: true, pin: { maxVersion: "1.2.0", releasedBefore: pinned.releasedBefore } });
    expect(decide({ ...base, expiresAt: new Date("2026-11-23T12:00:01Z") }, "acme", now).allow).toBe(true);
  });

  it("denies an unknown license", () => {
    expect(decide(null, "acme", now)).toMatchObject({ allow: false, reason: "unknown_license", message: expect.stringMatching(/not known/) });
  });

  it("denies a license of another app", () => {
    expect(decide(base, "other-app", now)).toMatchObject({ allow: false, reason: "wrong_app" });
  });

  it("denies a revoked license, even one that would also be expired", () => {
    expect(decide({ ...base, revokedAt: new Date("2026-11-22T00:00:00Z") }, "acme", now)).toMatchObject({ allow: false, reason: "revoked" });
    expect(decide({ ...base, revokedAt: now, expiresAt: new Date(0) }, "acme", now)).toMatchObject({ reason: "revoked" });
  });

  it("denies an expired license, exactly from the expiry instant", () => {
    expect(decide({ ...base, expiresAt: now }, "acme", now)).toMatchObject({ allow: false, reason: "expired", message: expect.stringMatching(/expired/) });
  });

  it("sees an expiry that passes between two calls", () => {
    const license = { ...base, expiresAt: new Date(now.getTime() + 500) };
    expect(decide(license, "acme", now).allow).toBe(true);
    expect(decide(license, "acme", new Date(now.getTime() + 500))).toMatchObject({ allow: false, reason: "expired" });
  });

  it("checks the app before the state, so a customer learns the actionable reason", () => {
    expect(decide({ ...base, revokedAt: now }, "other", now)).toMatchObject({ reason: "wrong_app" });
  });
});
