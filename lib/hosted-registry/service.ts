import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { log } from "@/lib/log";
import { EmbeddedDistribution, findDistributionBinary } from "./distribution";
import { handleHostedRegistry, registryPathNameOf, type HostedRegistryConfig } from "./handler";
import { setActiveStorage } from "./maintenance";
import { loadSigningKey, StorageTokens } from "./signing";
import { closeStoragePools } from "./storage";

/**
 * Gantry's own registry as the server runs it: the signing key, the storage
 * engine (embedded distribution, or the operator's GANTRY_REGISTRY_BACKEND)
 * and the request handler.
 */
export interface HostedRegistryOptions {
  /** <data dir>/registry: signing key, distribution's config and storage. */
  dir: string;
  /** An operator-run distribution (http(s)://host:port); unset: embedded. */
  backend?: string;
  /** Operator-supplied signing key and certificate (PEM files), for replicas that share a backend. */
  signing?: { keyFile: string; certFile: string };
  /** The registry's public host[:port] (GANTRY_REGISTRY_URL), when it has one. */
  publicHost: string | undefined;
  secret: string;
  realmFor(req: IncomingMessage): { realm: string; service: string };
}

export interface HostedRegistry {
  handle(req: IncomingMessage, res: ServerResponse, clientIp: string | null): Promise<void>;
  /** Where its storage engine is (diagnostics and tests). */
  storageOrigin(): string;
  /** The embedded storage engine's process id, while it runs (tests). */
  storagePid(): number | undefined;
  /** Path of distribution's config (the embedded one), for garbage collection. */
  distributionConfigFile: string | null;
  stop(): Promise<void>;
}

export type StartResult = { registry: HostedRegistry } | { registry: null; reason: string };

export async function startHostedRegistry(o: HostedRegistryOptions): Promise<StartResult> {
  const key = loadSigningKey(o.dir, o.signing);
  const tokens = new StorageTokens(key);
  let distribution: EmbeddedDistribution | null = null;
  let origin: () => string;
  let ready: (() => Promise<void>) | undefined;
  if (o.backend) {
    const fixed = new URL(o.backend).origin;
    origin = () => fixed;
  } else {
    const binary = findDistributionBinary();
    if (!binary) {
      return {
        registry: null,
        reason: "the CNCF distribution registry is not installed (Debian: apt-get install docker-registry), so Gantry's own registry is off. Install it and restart, or point GANTRY_REGISTRY_BACKEND at a distribution you run.",
      };
    }
    distribution = new EmbeddedDistribution({ binary, dir: o.dir, certFile: key.certFile, realm: "http://127.0.0.1/gantry-only" });
    await distribution.start();
    const d = distribution;
    origin = () => d.url;
    ready = () => d.ready();
    log.info("registry storage started", { engine: binary, storage: path.join(o.dir, "storage") });
  }
  const config: HostedRegistryConfig = {
    backend: { origin, tokens, ready },
    realmFor: o.realmFor,
    secret: o.secret,
    registryPathName: () => registryPathNameOf(o.publicHost),
    diskRoot: distribution ? path.join(o.dir, "storage", "docker", "registry", "v2") : null,
    volumeDir: distribution ? o.dir : null,
  };
  // Maintenance jobs of this process (the retention purge) reach the storage through this client.
  setActiveStorage(config.backend, config.diskRoot);
  return {
    registry: {
      handle: (req, res, clientIp) => handleHostedRegistry(req, res, config, clientIp),
      storageOrigin: origin,
      storagePid: () => distribution?.pid,
      distributionConfigFile: distribution?.configFile ?? null,
      stop: async () => {
        setActiveStorage(null);
        await closeStoragePools();
        await distribution?.stop();
      },
    },
  };
}
