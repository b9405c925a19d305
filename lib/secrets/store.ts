import "server-only";
import { db, type Db, type Tx } from "@/lib/db";
import { open, seal, type SealedSecret, type SecretBinding } from "@/lib/crypto/envelope";
import { kekProvider } from "@/lib/crypto/provider";
import { notFound } from "@/lib/errors";

const SEALED_FIELDS = { ciphertext: true, iv: true, authTag: true, wrappedDek: true, kekId: true, version: true } as const;

function toSealed(row: { ciphertext: Uint8Array; iv: Uint8Array; authTag: Uint8Array; wrappedDek: Uint8Array; kekId: string; version: number }): SealedSecret {
  return {
    ciphertext: Buffer.from(row.ciphertext),
    iv: Buffer.from(row.iv),
    authTag: Buffer.from(row.authTag),
    wrappedDek: Buffer.from(row.wrappedDek),
    kekId: row.kekId,
    version: row.version,
  };
}

/** Encrypts and stores (or replaces) the secret bound to (team, resource, purpose). */
export async function storeSecret(client: Db | Tx, binding: SecretBinding, plaintext: string): Promise<void> {
  const sealed = await seal(plaintext, binding, kekProvider());
  const data = {
    ciphertext: new Uint8Array(sealed.ciphertext),
    iv: new Uint8Array(sealed.iv),
    authTag: new Uint8Array(sealed.authTag),
    wrappedDek: new Uint8Array(sealed.wrappedDek),
    kekId: sealed.kekId,
    version: sealed.version,
  };
  await client.encryptedSecret.upsert({
    where: { teamId_resourceId_purpose: binding },
    create: { ...binding, ...data },
    update: data,
    select: { id: true },
  });
}

/** Decrypts a secret in memory. Callers keep the result only as long as the request needs it. */
let decrypts = 0;
/** How many secrets this process has decrypted (the proxy's hot path should add none). */
export function secretDecrypts(): number {
  return decrypts;
}

export async function loadSecret(binding: SecretBinding): Promise<string> {
  decrypts++;
  const row = await db.encryptedSecret.findUnique({ where: { teamId_resourceId_purpose: binding }, select: SEALED_FIELDS });
  if (!row) throw notFound("Secret");
  return (await open(toSealed(row), binding, kekProvider())).toString("utf8");
}

export async function deleteSecrets(client: Db | Tx, teamId: string, resourceId: string): Promise<void> {
  await client.encryptedSecret.deleteMany({ where: { teamId, resourceId } });
}

export { toSealed, SEALED_FIELDS };
