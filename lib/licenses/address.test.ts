import { describe, expect, it } from "vitest";
import { LICENSE_ID_IN_URL_MESSAGE, parseLicenseAddress } from "@/lib/licenses/address";
import { generateLicenseId, licenseFingerprint } from "@/lib/licenses/key";

describe("parseLicenseAddress", () => {
  it("refuses a license ID with 400 BAD_REQUEST", () => {
    for (const id of [generateLicenseId(), "x".repeat(32), "0123456789abcdef0123456789abcdef"]) {
      expect(() => parseLicenseAddress(id)).toThrow(expect.objectContaining({ code: "BAD_REQUEST", status: 400, message: LICENSE_ID_IN_URL_MESSAGE }));
    }
  });

  it("reads 8 hex digits as a fingerprint (any case) and anything else as a row id", () => {
    const fp = licenseFingerprint(generateLicenseId());
    expect(parseLicenseAddress(fp)).toEqual({ kind: "fingerprint", fingerprint: fp });
    expect(parseLicenseAddress("DEADBEEF")).toEqual({ kind: "fingerprint", fingerprint: "deadbeef" });
    expect(parseLicenseAddress("cmhx2k9v00000a1b2c3d4e5f6")).toEqual({ kind: "id", id: "cmhx2k9v00000a1b2c3d4e5f6" });
    expect(parseLicenseAddress("x".repeat(31))).toEqual({ kind: "id", id: "x".repeat(31) });
  });
});
