import crypto from "node:crypto";

/**
 * Key-encryption keys (KEKs) wrap the per-secret data keys. A provider knows
 * one current KEK (new wraps) and any number of older ones (unwraps), each with
 * an id stored next to the wrapped key. A cloud KMS plugs in by implementing
 * this interface; the built-in provider holds 32-byte keys in memory.
 */
export interface KekProvider {
  readonly currentKekId: string;
  wrap(dek: Buffer, kekId?: string): Promise<Buffer>;
  unwrap(wrapped: Buffer, kekId: string): Promise<Buffer>;
  has(kekId: string): boolean;
}

export class KekError extends Error {
  override name = "KekError";
}

const WRAP_AAD_PREFIX = "gantry-dek-wrap:v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM key wrapping with keys held in memory (from the environment or a key file). */
export class StaticKekProvider implements KekProvider {
  readonly #keys: Map<string, Buffer>;
  readonly currentKekId: string;

  constructor(keys: Record<string, Buffer>, currentKekId: string) {
    this.#keys = new Map(Object.entries(keys));
    for (const [id, key] of this.#keys) {
      if (key.length !== 32) throw new KekError(`KEK "${id}" must be 32 bytes, got ${key.length}.`);
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new KekError(`KEK id "${id}" may only use letters, digits, ".", "_" and "-".`);
    }
    if (!this.#keys.has(currentKekId)) throw new KekError(`The current KEK "${currentKekId}" is not among the configured keys.`);
    this.currentKekId = currentKekId;
  }

  has(kekId: string): boolean {
    return this.#keys.has(kekId);
  }

  #key(kekId: string): Buffer {
    const key = this.#keys.get(kekId);
    if (!key) throw new KekError(`KEK "${kekId}" is not configured; cannot unwrap a key it wrapped.`);
    return key;
  }

  async wrap(dek: Buffer, kekId = this.currentKekId): Promise<Buffer> {
    const iv = crypto.randomBytes(IV_BYTES);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.#key(kekId), iv);
    cipher.setAAD(Buffer.from(WRAP_AAD_PREFIX + kekId));
    const body = Buffer.concat([cipher.update(dek), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]);
  }

  async unwrap(wrapped: Buffer, kekId: string): Promise<Buffer> {
    if (wrapped.length < IV_BYTES + TAG_BYTES + 1) throw new KekError("Wrapped key is truncated.");
    const iv = wrapped.subarray(0, IV_BYTES);
    const tag = wrapped.subarray(wrapped.length - TAG_BYTES);
    const body = wrapped.subarray(IV_BYTES, wrapped.length - TAG_BYTES);
    const decipher = crypto.createDecipheriv("aes-256-gcm", this.#key(kekId), iv);
    decipher.setAAD(Buffer.from(WRAP_AAD_PREFIX + kekId));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw new KekError(`Unwrapping a data key with KEK "${kekId}" failed: wrong key or tampered data.`);
    }
  }
}

/**
 * Parses `GANTRY_KEKS`: comma-separated `id:base64key` pairs. The current KEK is
 * `GANTRY_KEK_CURRENT`, or the only key when there is just one.
 */
export function parseKekList(list: string, current: string | undefined): { keys: Record<string, Buffer>; current: string } {
  const keys: Record<string, Buffer> = {};
  for (const part of list.split(",").map((s) => s.trim()).filter(Boolean)) {
    const sep = part.indexOf(":");
    if (sep <= 0) throw new KekError(`GANTRY_KEKS entry "${part.slice(0, 12)}…" must look like id:base64key.`);
    const id = part.slice(0, sep);
    const key = Buffer.from(part.slice(sep + 1), "base64");
    if (key.length !== 32) throw new KekError(`GANTRY_KEKS key "${id}" must decode to 32 bytes (openssl rand -base64 32).`);
    if (keys[id]) throw new KekError(`GANTRY_KEKS lists "${id}" twice.`);
    keys[id] = key;
  }
  const ids = Object.keys(keys);
  if (ids.length === 0) throw new KekError("GANTRY_KEKS has no keys.");
  const chosen = current ?? (ids.length === 1 ? ids[0] : undefined);
  if (!chosen) throw new KekError("GANTRY_KEKS has several keys: set GANTRY_KEK_CURRENT to the id of the one to use for new secrets.");
  if (!keys[chosen]) throw new KekError(`GANTRY_KEK_CURRENT "${chosen}" is not in GANTRY_KEKS.`);
  return { keys, current: chosen };
}
