import fs from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { INDEX_TYPES, MANIFEST_MAX_BYTES } from "./records";
import { loadSigningKey, StorageTokens } from "./signing";
import { callStorage, pullAccess, type StorageBackend } from "./storage";

/**
 * What garbage collection needs of the storage besides distribution's own
 * collector: where distribution answers and the key it trusts (to delete
 * manifests by digest through its API, as Gantry does), the blobs directory of
 * a filesystem storage (to measure what a run frees), and manifests read back
 * (an index's platform manifests, an image's layers).
 */
export interface DistributionConfigFacts {
  /** Where distribution listens, from `http.addr` (a wildcard host is reached on loopback). */
  origin: string;
  /** `auth.token.rootcertbundle`: the certificate distribution trusts. */
  trustedCert: string | null;
  /** `<rootdirectory>/docker/registry/v2/blobs` of the filesystem driver; null for S3, GCS, Azure… */
  blobsDir: string | null;
}

const MAX_CONFIG_BYTES = 1024 * 1024;

export function readDistributionConfig(configFile: string): DistributionConfigFacts {
  if (!fs.existsSync(configFile)) throw new Error(`No registry config at ${configFile}: start Gantry once (it writes it), or pass the config of the distribution you run.`);
  if (fs.statSync(configFile).size > MAX_CONFIG_BYTES) throw new Error(`${configFile} is over 1 MiB: not a distribution config.`);
  const config = (parseYaml(fs.readFileSync(configFile, "utf8")) ?? {}) as {
    http?: { addr?: unknown; tls?: { certificate?: unknown; letsencrypt?: unknown } };
    auth?: { token?: { rootcertbundle?: unknown } };
    storage?: { filesystem?: { rootdirectory?: unknown } | null };
  };
  const addr = typeof config.http?.addr === "string" ? config.http.addr : ":5000";
  const colon = addr.lastIndexOf(":");
  const host = addr.slice(0, colon).replace(/^\[|\]$/g, "");
  const port = addr.slice(colon + 1);
  const reachable = host === "" || host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const tls = Boolean(config.http?.tls?.certificate || config.http?.tls?.letsencrypt);
  const cert = config.auth?.token?.rootcertbundle;
  const storage = config.storage ?? {};
  // The filesystem driver's default root, when the key is there without one.
  const root = "filesystem" in storage ? (typeof storage.filesystem?.rootdirectory === "string" ? storage.filesystem.rootdirectory : "/var/lib/registry") : null;
  return {
    origin: `${tls ? "https" : "http"}://${reachable}:${port}`,
    trustedCert: typeof cert === "string" ? path.resolve(path.dirname(configFile), cert) : null,
    blobsDir: root === null ? null : path.join(path.resolve(path.dirname(configFile), root), "docker", "registry", "v2", "blobs"),
  };
}

/**
 * The storage the CLI deletes through: GANTRY_REGISTRY_BACKEND when set, else
 * the address in distribution's config (the embedded engine's, rewritten at
 * each start). Tokens are signed with GANTRY_REGISTRY_TOKEN_KEY/_CERT when set,
 * else with the key beside the certificate distribution trusts (the embedded
 * engine's <data dir>/registry/token-signing.key). Nothing is generated here.
 */
export function gcStorageBackend(o: { configFile: string; backendUrl?: string; signing?: { keyFile: string; certFile: string } }): StorageBackend {
  const facts = readDistributionConfig(o.configFile);
  let signing = o.signing;
  if (!signing) {
    if (!facts.trustedCert) throw new Error(`${o.configFile} has no auth.token.rootcertbundle: distribution does not take Gantry's tokens.`);
    const keyFile = path.join(path.dirname(facts.trustedCert), "token-signing.key");
    if (!fs.existsSync(keyFile) || !fs.existsSync(facts.trustedCert)) {
      throw new Error(`No signing key beside ${facts.trustedCert}: set GANTRY_REGISTRY_TOKEN_KEY and GANTRY_REGISTRY_TOKEN_CERT to the pair Gantry signs storage tokens with.`);
    }
    signing = { keyFile, certFile: facts.trustedCert };
  }
  const tokens = new StorageTokens(loadSigningKey(path.dirname(signing.keyFile), signing));
  const origin = o.backendUrl ? new URL(o.backendUrl).origin : facts.origin;
  return { origin: () => origin, tokens };
}

/** Fails early (before the registry turns read-only) when distribution does not answer or refuses Gantry's token. */
export async function checkStorageAnswers(backend: StorageBackend): Promise<void> {
  let status: number;
  try {
    const res = await callStorage(backend, { method: "GET", path: "/v2/", access: [], signal: AbortSignal.timeout(10_000) });
    status = res.statusCode;
    await res.body.dump();
  } catch (e) {
    throw new Error(`The registry's storage does not answer at ${backend.origin()} (${e instanceof Error ? e.message : String(e)}): run this while Gantry (or the distribution you run) is up.`);
  }
  if (status === 401 || status === 403) throw new Error(`The registry's storage at ${backend.origin()} refused Gantry's token: the signing key is not the one its config trusts.`);
  if (status !== 200) throw new Error(`The registry's storage at ${backend.origin()} answered ${status} to /v2/.`);
}

export interface BlobRef {
  digest: string;
  size: number;
}

export interface StoredManifest {
  mediaType: string;
  size: number;
  /** Manifests an index lists (empty for an image). */
  children: string[];
  /** What distribution's collector marks for it: config and layers, or the listed manifests. */
  blobs: BlobRef[];
}

const ACCEPT = [...INDEX_TYPES, "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"].join(", ");
const DIGEST_RE = /^sha(256:[a-f0-9]{64}|512:[a-f0-9]{128})$/;

/** A manifest as distribution stores it, or null when it has none by that digest there. Throws when it cannot be read. */
export async function readStoredManifest(backend: StorageBackend, store: string, digest: string): Promise<StoredManifest | null> {
  const res = await callStorage(backend, { method: "GET", path: `/v2/${store}/manifests/${digest}`, access: pullAccess(store), headers: { accept: ACCEPT }, signal: AbortSignal.timeout(60_000) });
  if (res.statusCode === 404) {
    await res.body.dump();
    return null;
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`distribution answered ${res.statusCode} to ${store}@${digest}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MANIFEST_MAX_BYTES) {
      res.body.destroy();
      throw new Error(`${store}@${digest} is larger than a manifest may be`);
    }
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const json = JSON.parse(body.toString("utf8")) as { mediaType?: unknown; manifests?: unknown; config?: unknown; layers?: unknown };
  const header = typeof res.headers["content-type"] === "string" ? res.headers["content-type"].split(";")[0]!.trim() : "";
  const mediaType = typeof json.mediaType === "string" ? json.mediaType : header;
  const refs = (list: unknown, what: string): BlobRef[] => {
    if (list === undefined) return [];
    if (!Array.isArray(list)) throw new Error(`${store}@${digest}: ${what} is not a list`);
    return list.map((d: { digest?: unknown; size?: unknown }) => {
      if (typeof d?.digest !== "string" || !DIGEST_RE.test(d.digest)) throw new Error(`${store}@${digest}: a descriptor in ${what} has no valid digest`);
      return { digest: d.digest, size: typeof d.size === "number" && Number.isSafeInteger(d.size) && d.size >= 0 ? d.size : 0 };
    });
  };
  if (INDEX_TYPES.has(mediaType) || json.manifests !== undefined) {
    const listed = refs(json.manifests, "manifests");
    return { mediaType, size: body.length, children: listed.map((d) => d.digest), blobs: listed };
  }
  return { mediaType, size: body.length, children: [], blobs: [...refs(json.config === undefined ? undefined : [json.config], "config"), ...refs(json.layers, "layers")] };
}

/** The data file of a blob in a filesystem storage. */
const blobFile = (blobsDir: string, digest: string) => {
  const [alg = "", hex = ""] = digest.split(":");
  return path.join(blobsDir, alg, hex.slice(0, 2), hex, "data");
};

/** Blobs and bytes in a filesystem storage (blobs/<alg>/<xx>/<hex>/data). */
export async function measureBlobs(blobsDir: string): Promise<{ blobs: number; bytes: number }> {
  let blobs = 0;
  let bytes = 0;
  const list = async (dir: string) => fs.promises.readdir(dir).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? [] : Promise.reject(e)));
  for (const alg of await list(blobsDir)) {
    for (const prefix of await list(path.join(blobsDir, alg))) {
      for (const hex of await list(path.join(blobsDir, alg, prefix))) {
        const stat = await fs.promises.stat(path.join(blobsDir, alg, prefix, hex, "data")).catch(() => null);
        if (!stat) continue;
        blobs++;
        bytes += stat.size;
      }
    }
  }
  return { blobs, bytes };
}

/** Bytes of these blobs in a filesystem storage (missing ones count 0). */
export async function blobBytes(blobsDir: string, digests: string[]): Promise<number> {
  let bytes = 0;
  for (const d of digests) bytes += (await fs.promises.stat(blobFile(blobsDir, d)).catch(() => null))?.size ?? 0;
  return bytes;
}
