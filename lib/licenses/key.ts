import crypto from "node:crypto";

/**
 * License IDs: 192 bits from the CSPRNG, base64url (32 characters, URL-safe),
 * used as the customer's registry password. Stored only as SHA-256 for lookups
 * and envelope-encrypted for display; the fingerprint is safe to show anywhere.
 */
export const LICENSE_ID_BYTES = 24;
const LICENSE_ID_RE = /^[A-Za-z0-9_-]{32}$/;

export function generateLicenseId(): string {
  return crypto.randomBytes(LICENSE_ID_BYTES).toString("base64url");
}

export function isLicenseIdFormat(value: string): boolean {
  return LICENSE_ID_RE.test(value);
}

export function hashLicenseId(licenseId: string): string {
  return crypto.createHash("sha256").update(licenseId, "utf8").digest("hex");
}

/** A short, non-secret name for a license: the first 8 hex digits of its hash. */
export function licenseFingerprint(licenseId: string): string {
  return hashLicenseId(licenseId).slice(0, 8);
}
