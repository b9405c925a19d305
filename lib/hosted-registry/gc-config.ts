import fs from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { loadSigningKey, StorageTokens } from "./signing";
import type { StorageBackend } from "./storage";

/**
 * What `registry gc` learns from distribution's config file (the embedded
 * engine's <data dir>/registry/config.yml, or the operator's, YAML): where
 * distribution answers and the certificate it trusts (to delete manifests
 * through its API with Gantry's tokens), and the blobs directory of a
 * filesystem storage (to measure what a run frees). Relative paths are read
 * from the config file's directory.
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
  if (colon < 0 || !/^\d{1,5}$/.test(addr.slice(colon + 1))) throw new Error(`${configFile}: http.addr "${addr.slice(0, 100)}" is not host:port.`);
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
