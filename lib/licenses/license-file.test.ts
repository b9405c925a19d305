import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { licenseToYaml, signLicense, verifyLicenseFile, type LicenseSpec } from "@/lib/licenses/license-file";

const { privateKey, publicKey } = crypto.generateKeyPairSync("ed25519");
const priv = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const pub = publicKey.export({ type: "spki", format: "pem" }).toString();
const spec: LicenseSpec = {
  licenseId: "abcdefghijklmnopqrstuvwxyz012345",
  appSlug: "acme",
  customerName: "Globex",
  licenseType: "trial",
  expiresAt: "2026-12-31T00:00:00.000Z",
  proxyDomain: "pull.example.com",
  registryDomain: null,
  issuedAt: "2026-11-23T00:00:00.000Z",
};

describe("license files", () => {
  it("round-trips: sign, write YAML, verify", () => {
    const text = licenseToYaml(signLicense(spec, priv, pub));
    expect(text).toContain("kind: License");
    expect(text).toContain("licenseId: abcdefghijklmnopqrstuvwxyz012345");
    expect(verifyLicenseFile(text, pub)).toMatchObject({ valid: true, spec });
  });

  it("names the proxy URL in its comment, and how to treat it when it is plain http; the comment is not signed", () => {
    const doc = signLicense({ ...spec, proxyDomain: "gantry.lab:3000" }, priv, pub);
    const plain = licenseToYaml(doc, { scheme: "http", host: "gantry.lab:3000", origin: "http://gantry.lab:3000" });
    expect(plain.split("\n").slice(0, 4)).toEqual([
      "# Gantry license. Keep it private: the license ID is your registry password.",
      "# Pull through http://gantry.lab:3000.",
      expect.stringMatching(/^# gantry\.lab:3000 is served over plain http .*"insecure-registries": \["gantry\.lab:3000"\]/),
      "# docker login gantry.lab:3000 -u LICENSE_ID -p <spec.licenseId>",
    ]);
    expect(verifyLicenseFile(plain, pub).valid).toBe(true);
    const tls = licenseToYaml(signLicense(spec, priv, pub), { scheme: "https", host: "pull.example.com", origin: "https://pull.example.com" });
    expect(tls).toContain("# Pull through https://pull.example.com.\n# docker login pull.example.com ");
    expect(tls).not.toContain("insecure");
  });

  it("survives re-formatting but not a changed value", () => {
    const doc = signLicense(spec, priv, pub);
    const reordered = YAML.stringify({ signature: doc.signature, spec: { ...doc.spec }, kind: doc.kind, apiVersion: doc.apiVersion }, { indent: 4 });
    expect(verifyLicenseFile(reordered, pub).valid).toBe(true);
    for (const change of [{ expiresAt: "2099-12-31T00:00:00.000Z" }, { licenseType: "paid" }, { appSlug: "other" }, { customerName: "Globex " }]) {
      const tampered = licenseToYaml({ ...doc, spec: { ...doc.spec, ...change } });
      expect(verifyLicenseFile(tampered, pub)).toMatchObject({ valid: false, reason: expect.stringMatching(/does not match/) });
    }
  });

  it("refuses another key, garbage and non-license YAML with a reason", () => {
    const other = crypto.generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();
    const text = licenseToYaml(signLicense(spec, priv, pub));
    expect(verifyLicenseFile(text, other)).toMatchObject({ valid: false, reason: expect.stringMatching(/not with the given key/) });
    expect(verifyLicenseFile("spec: [unclosed\n  - a: {", pub)).toMatchObject({ valid: false, reason: expect.stringMatching(/YAML/) });
    expect(verifyLicenseFile("kind: Deployment", pub)).toMatchObject({ valid: false, reason: expect.stringMatching(/not a Gantry license/) });
  });
});
