import type { IncomingMessage } from "node:http";
import { ProxyError, type RegistryErrorCode } from "@/lib/proxy/errors";

const READ_TIMEOUT_MS = 30_000;

/** A request body of at most `limit` bytes, read within 30 s; over the limit: 413 in the registry format. */
export async function readBody(req: IncomingMessage, limit: number, code: RegistryErrorCode, what: string): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  const tooLarge = () => new ProxyError(413, code === "MANIFEST_INVALID" ? "SIZE_INVALID" : code, `The ${what} is larger than ${limit} bytes.`);
  if (declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  const deadline = setTimeout(() => req.destroy(new Error(`the ${what} did not arrive within ${READ_TIMEOUT_MS / 1000} s`)), READ_TIMEOUT_MS);
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) throw tooLarge();
      chunks.push(chunk);
    }
  } finally {
    clearTimeout(deadline);
  }
  return Buffer.concat(chunks);
}
