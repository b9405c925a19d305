import crypto from "node:crypto";
import type { KekProvider } from "./kek";

/**
 * Envelope encryption: every secret gets its own random 256-bit data key (DEK),
 * used once with AES-256-GCM; the DEK is stored wrapped by a KEK. The associated
 * data names the row the secret belongs to (team, resource, purpose), so a
 * ciphertext copied into another row fails to decrypt, as does any flipped bit.
 */
export const ENVELOPE_VERSION = 1;

export interface SecretBinding {
  teamId: string;
  /** The row the secret belongs to, e.g. the registry's id. */
  resourceId: string;
  /** What the secret is for, e.g. "registry.password". */
  purpose: string;
}

export interface SealedSecret {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
  wrappedDek: Buffer;
  kekId: string;
  version: number;
}

export class DecryptError extends Error {
  override name = "DecryptError";
}

export function associatedData(b: SecretBinding, version = ENVELOPE_VERSION): Buffer {
  // JSON of a fixed key order: unambiguous however the ids are spelled.
  return Buffer.from(JSON.stringify(["gantry-secret", version, b.teamId, b.resourceId, b.purpose]));
}

export async function seal(plaintext: string | Buffer, binding: SecretBinding, kek: KekProvider): Promise<SealedSecret> {
  const dek = crypto.randomBytes(32);
  try {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv("aes-256-gcm", dek, iv);
    cipher.setAAD(associatedData(binding));
    const ciphertext = Buffer.concat([cipher.update(typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : plaintext), cipher.final()]);
    return {
      ciphertext,
      iv,
      authTag: cipher.getAuthTag(),
      wrappedDek: await kek.wrap(dek),
      kekId: kek.currentKekId,
      version: ENVELOPE_VERSION,
    };
  } finally {
    dek.fill(0);
  }
}

export async function open(sealed: SealedSecret, binding: SecretBinding, kek: KekProvider): Promise<Buffer> {
  if (sealed.version !== ENVELOPE_VERSION) throw new DecryptError(`Unknown envelope version ${sealed.version}.`);
  const dek = await kek.unwrap(sealed.wrappedDek, sealed.kekId);
  try {
    const decipher = crypto.createDecipheriv("aes-256-gcm", dek, sealed.iv);
    decipher.setAAD(associatedData(binding, sealed.version));
    decipher.setAuthTag(sealed.authTag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    throw new DecryptError("Decrypting a secret failed: it was tampered with, or belongs to another row.");
  } finally {
    dek.fill(0);
  }
}

/** Re-wraps the DEK under another KEK. The payload is not touched. */
export async function rewrap(sealed: SealedSecret, kek: KekProvider, toKekId = kek.currentKekId): Promise<SealedSecret> {
  const dek = await kek.unwrap(sealed.wrappedDek, sealed.kekId);
  try {
    return { ...sealed, wrappedDek: await kek.wrap(dek, toKekId), kekId: toKekId };
  } finally {
    dek.fill(0);
  }
}
