import crypto from "node:crypto";
import canonicalize from "canonicalize";
import YAML from "yaml";
import type { PublicUrl } from "@/lib/env";
import { plainHttpNote } from "@/lib/http/public-urls";

/**
 * The license file a customer installs with: a YAML document whose `spec` is
 * signed with the team's Ed25519 key. The signature is detached (in
 * `signature`) and covers the RFC 8785 canonical JSON of `spec`, so
 * re-formatting the YAML does not break it but changing any value does.
 */
export const LICENSE_API_VERSION = "gantry.dev/v1";

export interface LicenseSpec {
  licenseId: string;
  appSlug: string;
  customerName: string;
  licenseType: string;
  expiresAt: string | null;
  proxyDomain: string;
  registryDomain: string | null;
  issuedAt: string;
}

export interface LicenseDocument {
  apiVersion: string;
  kind: "License";
  spec: LicenseSpec;
  signature: { algorithm: "Ed25519"; keyId: string; value: string };
}

export function canonicalSpec(spec: LicenseSpec): Buffer {
  const text = canonicalize(spec);
  if (text === undefined) throw new Error("license spec cannot be canonicalized");
  return Buffer.from(text, "utf8");
}

/** A stable id for a public key: the first 16 hex digits of the SHA-256 of its DER SPKI. */
export function publicKeyId(publicKeyPem: string): string {
  const der = crypto.createPublicKey(publicKeyPem).export({ type: "spki", format: "der" });
  return crypto.createHash("sha256").update(der).digest("hex").slice(0, 16);
}

export function signLicense(spec: LicenseSpec, privateKeyPem: string, publicKeyPem: string): LicenseDocument {
  const value = crypto.sign(null, canonicalSpec(spec), crypto.createPrivateKey(privateKeyPem)).toString("base64");
  return { apiVersion: LICENSE_API_VERSION, kind: "License", spec, signature: { algorithm: "Ed25519", keyId: publicKeyId(publicKeyPem), value } };
}

/**
 * The license as YAML, with a comment saying how to log in. `proxy` is the
 * proxy's public URL (its scheme is not part of the signed spec): given, the
 * comment names it, and how to treat it when it is plain http.
 */
export function licenseToYaml(doc: LicenseDocument, proxy?: PublicUrl): string {
  const plain = proxy ? plainHttpNote(proxy) : null;
  const header = [
    "# Gantry license. Keep it private: the license ID is your registry password.",
    ...(proxy ? [`# Pull through ${proxy.origin}.`] : []),
    ...(plain ? [`# ${plain}`] : []),
    `# docker login ${doc.spec.proxyDomain} -u LICENSE_ID -p <spec.licenseId>`,
  ].join("\n");
  return `${header}\n${YAML.stringify(doc, { lineWidth: 0 })}`;
}

export type VerifyResult =
  | { valid: true; spec: LicenseSpec; keyId: string }
  | { valid: false; reason: string };

/** Parses a license file and checks its signature against a public key (PEM). */
export function verifyLicenseFile(text: string, publicKeyPem: string): VerifyResult {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    return { valid: false, reason: `not valid YAML: ${e instanceof Error ? e.message : String(e)}` };
  }
  const d = doc as Partial<LicenseDocument> | null;
  if (!d || d.kind !== "License" || d.apiVersion !== LICENSE_API_VERSION || !d.spec || !d.signature) {
    return { valid: false, reason: "not a Gantry license file (apiVersion/kind/spec/signature missing)" };
  }
  if (d.signature.algorithm !== "Ed25519" || typeof d.signature.value !== "string") return { valid: false, reason: "unsupported signature algorithm" };
  const keyId = publicKeyId(publicKeyPem);
  if (d.signature.keyId !== keyId) return { valid: false, reason: `signed with key ${d.signature.keyId}, not with the given key ${keyId}` };
  const ok = crypto.verify(null, canonicalSpec(d.spec), crypto.createPublicKey(publicKeyPem), Buffer.from(d.signature.value, "base64"));
  return ok ? { valid: true, spec: d.spec, keyId } : { valid: false, reason: "the signature does not match: the file was changed or signed by another key" };
}
