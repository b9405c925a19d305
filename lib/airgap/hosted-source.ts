import "server-only";
import { openLinkedBlob } from "@/lib/hosted-registry/disk-blobs";
import { activeStorage } from "@/lib/hosted-registry/maintenance";
import { callStorage, pullAccess, storageName } from "@/lib/hosted-registry/storage";
import { readManifestBytes } from "@/lib/hosted-registry/stored-blob";
import { ProxyError } from "@/lib/proxy/errors";
import { declaredMediaType, readSpan, sliceStream, verifiedManifest, type ImageContent } from "./sources";

const unavailable = () => new ProxyError(503, "UNAVAILABLE", "Gantry's registry is not running in this process, so its images cannot be bundled here. Try again in a few seconds.", { "retry-after": "5" });

/**
 * An image on Gantry's own registry, read from its storage: the embedded
 * distribution's files when they are on this machine (no HTTP hop, ranges by
 * pread), else the storage backend with a Range request.
 */
export function hostedContent(appId: string, repository: string): ImageContent {
  const store = storageName(appId, repository);
  const storage = () => activeStorage() ?? (() => { throw unavailable(); })();
  return {
    async manifest(digest, signal) {
      const read = await readManifestBytes(storage(), store, digest, signal);
      if (!read) throw new ProxyError(404, "MANIFEST_UNKNOWN", `Gantry's registry has no manifest ${digest} in ${repository} (or one over the manifest bound).`);
      const bytes = verifiedManifest(digest, read, "Gantry's registry storage");
      return { bytes, mediaType: declaredMediaType(bytes) };
    },
    async blob(digest, _size, start, end) {
      const { backend, diskRoot } = storage();
      const disk = diskRoot ? await openLinkedBlob(diskRoot, store, digest) : null;
      if (disk) {
        return readSpan((buf, at) => disk.fd.read(buf, 0, buf.length, at).then((r) => r.bytesRead), start, end, () => void disk.fd.close().catch(() => undefined));
      }
      const res = await callStorage(backend, { method: "GET", path: `/v2/${store}/blobs/${digest}`, access: pullAccess(store), headers: { range: `bytes=${start}-${end}` } });
      if (res.statusCode !== 206 && res.statusCode !== 200) {
        await res.body.dump();
        if (res.statusCode === 404) throw new ProxyError(404, "BLOB_UNKNOWN", `Gantry's registry has no blob ${digest} in ${repository}.`);
        throw new ProxyError(503, "UNAVAILABLE", `Gantry's registry storage answered ${res.statusCode}; try again in a few seconds.`, { "retry-after": "5" });
      }
      // A backend that ignored the range sends the whole blob: skip to its start.
      const body = res.body as unknown as AsyncIterable<Buffer> & { destroy(error?: Error): void };
      return res.statusCode === 206 ? sliceStream(body, 0, end - start) : sliceStream(body, start, end);
    },
  };
}
