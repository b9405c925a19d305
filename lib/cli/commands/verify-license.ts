import fs from "node:fs";
import { verifyLicenseFile } from "@/lib/licenses/license-file";
import { CliError } from "../args";

/**
 * `verify-license FILE --key PUBLIC_KEY.pem`: checks a license file offline:
 * the signature against the vendor's public key, then the expiry. Revocation
 * is only known online (the proxy checks it on every pull), and says so.
 */
export function verifyLicense(file: string | undefined, options: Record<string, string | true>, now = new Date()) {
  if (!file) throw new CliError("usage: verify-license FILE --key PUBLIC_KEY.pem");
  const keyFile = options.key;
  if (typeof keyFile !== "string") throw new CliError("Missing --key PUBLIC_KEY.pem (download it from Settings or GET /api/v1/license-public-key).");
  const read = (f: string, what: string) => {
    try {
      return fs.readFileSync(f, "utf8");
    } catch {
      throw new CliError(`Cannot read the ${what} ${f}.`, 1);
    }
  };
  const result = verifyLicenseFile(read(file, "license file"), read(keyFile, "public key"));
  if (!result.valid) return { valid: false, state: "invalid", reason: result.reason };
  const expired = result.spec.expiresAt !== null && new Date(result.spec.expiresAt).getTime() <= now.getTime();
  return {
    valid: true,
    state: expired ? "expired" : "active",
    keyId: result.keyId,
    app: result.spec.appSlug,
    customer: result.spec.customerName,
    type: result.spec.licenseType,
    expiresAt: result.spec.expiresAt,
    note: "Signature checked offline. Revocation is checked online by the registry proxy on every pull.",
  };
}
