import { describe, expect, it } from "vitest";
import { daysLeft, licenseState } from "@/lib/licenses/state";
import { generateLicenseId, hashLicenseId, isLicenseIdFormat, licenseFingerprint } from "@/lib/licenses/key";

const now = new Date("2026-11-23T12:00:00Z");

describe("license state", () => {
  it("derives active, expired and revoked", () => {
    expect(licenseState({ revokedAt: null, expiresAt: null }, now)).toBe("active");
    expect(licenseState({ revokedAt: null, expiresAt: new Date("2026-12-01") }, now)).toBe("active");
    expect(licenseState({ revokedAt: null, expiresAt: new Date("2026-11-01") }, now)).toBe("expired");
    expect(licenseState({ revokedAt: new Date("2026-11-01"), expiresAt: new Date("2026-12-01") }, now)).toBe("revoked");
  });

  it("counts whole days left for trials", () => {
    expect(daysLeft(null, now)).toBeNull();
    expect(daysLeft(new Date("2026-12-07T12:00:00Z"), now)).toBe(14);
    expect(daysLeft(new Date("2026-11-24T11:00:00Z"), now)).toBe(0);
    expect(daysLeft(new Date("2026-11-01T00:00:00Z"), now)).toBe(0);
  });
});

describe("license IDs", () => {
  it("are 192-bit, URL-safe, unique and fingerprinted", () => {
    const ids = new Set(Array.from({ length: 2000 }, generateLicenseId));
    expect(ids.size).toBe(2000);
    for (const id of [...ids].slice(0, 50)) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(Buffer.from(id, "base64url")).toHaveLength(24);
      expect(isLicenseIdFormat(id)).toBe(true);
      expect(encodeURIComponent(id)).toBe(id);
    }
    const id = generateLicenseId();
    expect(licenseFingerprint(id)).toBe(hashLicenseId(id).slice(0, 8));
    expect(hashLicenseId(id)).not.toContain(id);
  });

  it("draw bits evenly (no character class is starved)", () => {
    const counts = new Map<string, number>();
    const sample = Array.from({ length: 4000 }, generateLicenseId).join("");
    for (const ch of sample) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(64);
    const expected = sample.length / 64;
    for (const c of counts.values()) expect(Math.abs(c - expected) / expected).toBeLessThan(0.2);
  });
});
