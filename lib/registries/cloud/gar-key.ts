import crypto from "node:crypto";
import { z } from "zod";
import { CloudCredentialError } from "./types";

/**
 * A Google service-account key file (the JSON the Cloud console downloads), as a
 * vendor pastes it: Gantry's secret for a `gar` registry. Only `service_account`
 * keys: `authorized_user`, `external_account` and `impersonated_service_account`
 * files name other token endpoints (STS, IAM Credentials) and refresh tokens a
 * vendor should not hand to a shared service.
 */

/** A console key file is about 2.3 KiB; anything much larger is not one. */
export const GAR_KEY_MAX_BYTES = 16 * 1024;

export interface GarServiceAccountKey {
  clientEmail: string;
  /** PEM (PKCS#8) RSA private key. */
  privateKey: string;
  privateKeyId: string;
  tokenUri: string;
  projectId: string | undefined;
}

const fieldsSchema = z.object(
  {
    type: z.string({ message: 'The key has no "type"; paste the whole JSON key file of a service account.' }),
    client_email: z.email({ message: 'The key\'s "client_email" is not a service account e-mail address.' }).max(320, 'The key\'s "client_email" is too long.'),
    private_key: z.string({ message: 'The key has no "private_key".' }).min(1, 'The key\'s "private_key" is empty.'),
    private_key_id: z
      .string({ message: 'The key has no "private_key_id".' })
      .regex(/^[A-Za-z0-9_-]{1,128}$/, 'The key\'s "private_key_id" is not a key ID (hexadecimal, as the console writes it).'),
    token_uri: z.url({ protocol: /^https?$/, message: 'The key\'s "token_uri" is not an http(s) URL.' }).max(2048, 'The key\'s "token_uri" is too long.'),
    project_id: z.string().max(100, 'The key\'s "project_id" is too long.').optional(),
  },
  { message: "The key is not a JSON object; paste the whole JSON key file of a service account." },
);

/**
 * The pasted key file (a string) → the fields Gantry uses. Every message is in
 * words and quotes no part of the key.
 */
export const garServiceAccountKeySchema = z
  .string({ message: "Paste the service account's JSON key file." })
  .trim()
  .min(1, "Paste the service account's JSON key file.")
  .refine((s) => Buffer.byteLength(s, "utf8") <= GAR_KEY_MAX_BYTES, `The key is larger than ${GAR_KEY_MAX_BYTES / 1024} KiB; a service-account key file is about 2 KiB.`)
  .transform((s, ctx): unknown => {
    try {
      return JSON.parse(s);
    } catch {
      ctx.addIssue({ code: "custom", message: "The key is not JSON; paste the whole JSON key file of a service account." });
      return z.NEVER;
    }
  })
  .pipe(fieldsSchema)
  .transform((k, ctx): GarServiceAccountKey => {
    if (k.type !== "service_account") {
      ctx.addIssue({ code: "custom", message: `The key is of type "${k.type.slice(0, 40)}"; Gantry needs a service account key (type "service_account").` });
      return z.NEVER;
    }
    if (!isRsaPrivateKeyPem(k.private_key)) {
      ctx.addIssue({ code: "custom", message: 'The key\'s "private_key" is not a PEM RSA private key.' });
      return z.NEVER;
    }
    return { clientEmail: k.client_email, privateKey: k.private_key, privateKeyId: k.private_key_id, tokenUri: k.token_uri, projectId: k.project_id };
  });

/** The non-secret facts of a key, stored and shown beside the registry. */
export const garPublicSchema = z.object({
  clientEmail: z.string().max(320),
  projectId: z.string().max(100).optional(),
});
export type GarPublic = z.infer<typeof garPublicSchema>;

/** The secret a `gar` registry's form and API take (envelope-encrypted like a password). */
export const garSecretSchema = z.object({ serviceAccountKey: garServiceAccountKeySchema });

function isRsaPrivateKeyPem(pem: string): boolean {
  if (!/^\s*-----BEGIN (RSA )?PRIVATE KEY-----/.test(pem)) return false;
  try {
    return crypto.createPrivateKey({ key: pem, format: "pem" }).asymmetricKeyType === "rsa";
  } catch {
    return false;
  }
}

/** Parses a pasted key, or throws CloudCredentialError("config") with the first problem in words. */
export function parseGarKey(json: string): GarServiceAccountKey {
  const parsed = garServiceAccountKeySchema.safeParse(json);
  if (parsed.success) return parsed.data;
  throw new CloudCredentialError("config", parsed.error.issues[0]?.message ?? "The service-account key is not valid.");
}

/** The fields to store in the clear and show, from a parsed key. */
export function garPublicFields(key: GarServiceAccountKey): GarPublic {
  return { clientEmail: key.clientEmail, ...(key.projectId ? { projectId: key.projectId } : {}) };
}
