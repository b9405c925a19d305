import "server-only";
import crypto from "node:crypto";
import { db } from "@/lib/db";
import { loadSecret, storeSecret } from "@/lib/secrets/store";
import { publicKeyId } from "./license-file";

export const SIGNING_KEY_PURPOSE = "license.signing-key";

/**
 * The team's Ed25519 license signing key, generated on first use. The private
 * key is stored with envelope encryption; the public key is stored plainly.
 */
export async function teamSigningKey(teamId: string): Promise<{ keyId: string; publicKey: string }> {
  const existing = await db.licenseSigningKey.findUnique({ where: { teamId } });
  if (existing) return existing;
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ed25519");
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  try {
    return await db.$transaction(async (tx) => {
      await storeSecret(tx, { teamId, resourceId: teamId, purpose: SIGNING_KEY_PURPOSE }, privatePem);
      return tx.licenseSigningKey.create({ data: { teamId, keyId: publicKeyId(publicPem), publicKey: publicPem } });
    });
  } catch (e) {
    // Two first uses at once: the other one won; use its key.
    const winner = await db.licenseSigningKey.findUnique({ where: { teamId } });
    if (winner) return winner;
    throw e;
  }
}

export async function teamPrivateSigningKey(teamId: string): Promise<string> {
  await teamSigningKey(teamId);
  return loadSecret({ teamId, resourceId: teamId, purpose: SIGNING_KEY_PURPOSE });
}
