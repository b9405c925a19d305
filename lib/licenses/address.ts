import { AppError } from "@/lib/errors";
import { isLicenseIdFormat } from "./key";

/**
 * How the vendor API addresses one license in a URL: its row id (a cuid) or its
 * fingerprint (8 hex digits of the ID's SHA-256). Never the license ID itself:
 * it is the customer's registry password, and URLs end up in access logs,
 * reverse proxies and browser history.
 */
export type LicenseAddress = { kind: "id"; id: string } | { kind: "fingerprint"; fingerprint: string };

export const LICENSE_ID_IN_URL_MESSAGE =
  "Address licenses by their id or fingerprint, never by the license ID: it is the customer's password and URLs end up in logs.";

const FINGERPRINT_RE = /^[0-9a-f]{8}$/i;

/** Classifies a path parameter; a license-ID-shaped one is refused before anything looks it up. */
export function parseLicenseAddress(value: string): LicenseAddress {
  if (isLicenseIdFormat(value)) throw new AppError("BAD_REQUEST", LICENSE_ID_IN_URL_MESSAGE);
  if (FINGERPRINT_RE.test(value)) return { kind: "fingerprint", fingerprint: value.toLowerCase() };
  return { kind: "id", id: value };
}
