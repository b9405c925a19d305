import crypto from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

/**
 * Content Gantry streams whole without caching it (a blob over half the
 * cache, too many fills at once, the disk below its floor, a sha384/sha512
 * digest, the cache off) is hashed as it passes. The last chunk is held back
 * until the upstream's body has ended and the hash matched: on a mismatch the
 * stream fails before that chunk is sent, so the client's response is cut
 * short and it never holds a complete, wrong blob. Ranges cannot be checked
 * this way (a range is part of a blob); they are passed as the upstream sends them.
 */
const ALGORITHMS: Record<string, { hash: string; hexLength: number }> = {
  sha256: { hash: "sha256", hexLength: 64 },
  sha384: { hash: "sha384", hexLength: 96 },
  sha512: { hash: "sha512", hexLength: 128 },
};

export class StreamDigestMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly bytes: number,
  ) {
    super(`the upstream sent content that does not match ${expected}`);
    this.name = "StreamDigestMismatchError";
  }
}

/** Whether Gantry can check content against this digest (sha256, sha384, sha512 in canonical hex). */
export function isVerifiableDigest(digest: string): boolean {
  const [alg = "", hex = ""] = digest.split(":");
  const known = ALGORITHMS[alg];
  return known !== undefined && hex.length === known.hexLength && /^[a-f0-9]+$/.test(hex);
}

/** The digest of a whole buffer in `digest`'s algorithm, or null when it is not one Gantry checks. */
export function digestOfBuffer(digest: string, body: Buffer): string | null {
  if (!isVerifiableDigest(digest)) return null;
  const alg = digest.split(":")[0]!;
  return `${alg}:${crypto.createHash(ALGORITHMS[alg]!.hash).update(body).digest("hex")}`;
}

/** A pass-through stream that fails (before its last chunk) when the bytes do not hash to `digest`. */
export function verifyingStream(digest: string): Transform {
  const alg = digest.split(":")[0]!;
  const known = ALGORITHMS[alg];
  if (!known || !isVerifiableDigest(digest)) throw new Error(`cannot verify ${digest.slice(0, 20)}`);
  const hash = crypto.createHash(known.hash);
  let held: Buffer | null = null;
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      hash.update(chunk);
      bytes += chunk.length;
      const previous = held;
      held = chunk;
      done(null, previous ?? undefined);
    },
    flush(done: TransformCallback) {
      const actual = `${alg}:${hash.digest("hex")}`;
      if (actual !== digest) return done(new StreamDigestMismatchError(digest, actual, bytes));
      done(null, held ?? undefined);
    },
  });
}
