import type { Dispatcher } from "undici";
import { ProxyError } from "@/lib/proxy/errors";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { MANIFEST_MAX_BYTES } from "./records";
import { openLinkedBlob } from "./disk-blobs";
import type { HostedRegistryConfig } from "./request";
import { callStorage, pullAccess } from "./storage";

/**
 * A small blob of a repository read whole into memory (a chart's config or
 * archive, a manifest), from the embedded storage's files or the backend.
 * Null when the repository does not have it; a blob over `maxBytes` is a
 * clear error, never read past the bound.
 */
export async function readStoredBlob(config: HostedRegistryConfig, store: string, digest: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer | null> {
  const tooLarge = () => new ProxyError(400, "BLOB_UNKNOWN", `Blob ${digest} is over ${maxBytes} bytes, more than Gantry reads for a chart.`);
  if (config.diskRoot) {
    const blob = await openLinkedBlob(config.diskRoot, store, digest);
    if (blob) {
      try {
        if (blob.size > maxBytes) throw tooLarge();
        const buf = Buffer.alloc(blob.size);
        let read = 0;
        while (read < blob.size) {
          const { bytesRead } = await blob.fd.read(buf, read, blob.size - read, read);
          if (bytesRead === 0) break;
          read += bytesRead;
        }
        return buf.subarray(0, read);
      } finally {
        await blob.fd.close();
      }
    }
  }
  const upstream = await callStorage(config.backend, { method: "GET", path: `/v2/${store}/blobs/${digest}`, access: pullAccess(store), ...(signal ? { signal } : {}) });
  if (upstream.statusCode !== 200) {
    await upstream.body.dump();
    return null;
  }
  const body = await readBounded(upstream.body, maxBytes);
  if (!body) throw tooLarge();
  return body;
}

/** A response body read whole, or null (and the body destroyed) once it passes `maxBytes`. */
async function readBounded(body: Dispatcher.ResponseData["body"], maxBytes: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      body.destroy();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A manifest's bytes as stored (any type Gantry stores), or null when storage has none by that digest or it is over the manifest bound. */
export async function readManifestBytes(config: Pick<HostedRegistryConfig, "backend">, store: string, digest: string, signal?: AbortSignal): Promise<Buffer | null> {
  const upstream = await callStorage(config.backend, { method: "GET", path: `/v2/${store}/manifests/${digest}`, access: pullAccess(store), headers: { accept: MANIFEST_ACCEPT }, ...(signal ? { signal } : {}) });
  if (upstream.statusCode !== 200) {
    await upstream.body.dump();
    return null;
  }
  return readBounded(upstream.body, MANIFEST_MAX_BYTES);
}
