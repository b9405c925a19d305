import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { describeGarIdentity } from "./gar";
import { garPublicFields, garSecretSchema, parseGarKey } from "./gar-key";
import { CloudCredentialError } from "./types";

function keyJson(overrides: Record<string, unknown> = {}): string {
  const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  return JSON.stringify({
    type: "service_account",
    project_id: "acme-prod",
    private_key_id: "0123456789abcdef0123456789abcdef01234567",
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    client_email: "puller@acme-prod.iam.gserviceaccount.com",
    token_uri: "https://oauth2.googleapis.com/token",
    ...overrides,
  });
}

describe("the service-account key", () => {
  it("parses a console key file into the fields Gantry uses and shows", () => {
    const key = parseGarKey(`\n${keyJson()}\n`);
    expect(key).toMatchObject({ clientEmail: "puller@acme-prod.iam.gserviceaccount.com", projectId: "acme-prod", tokenUri: "https://oauth2.googleapis.com/token" });
    expect(garPublicFields(key)).toEqual({ clientEmail: "puller@acme-prod.iam.gserviceaccount.com", projectId: "acme-prod" });
    expect(describeGarIdentity(garPublicFields(key))).toBe("Google service account puller@acme-prod.iam.gserviceaccount.com (project acme-prod)");
  });

  it("gives the form one message in words per problem, quoting nothing of the key", () => {
    const ecKey = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const result = garSecretSchema.safeParse({ serviceAccountKey: keyJson({ private_key: ecKey }) });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([["serviceAccountKey", 'The key\'s "private_key" is not a PEM RSA private key.']]);
    expect(JSON.stringify(result.error?.issues)).not.toContain(ecKey.slice(30, 60));
    expect(garSecretSchema.safeParse({ serviceAccountKey: "" }).error?.issues[0]?.message).toBe("Paste the service account's JSON key file.");
  });

  it("throws a config error for a key that is not one", () => {
    expect(() => parseGarKey(keyJson({ token_uri: "ftp://example.com/token" }))).toThrow(new CloudCredentialError("config", 'The key\'s "token_uri" is not an http(s) URL.'));
    expect(() => parseGarKey(keyJson({ type: "external_account" }))).toThrow(/of type "external_account"/);
    expect(describeGarIdentity({ serviceAccountKey: "nope" })).toBe("Google service account (the stored key is not valid)");
  });
});
