import fs from "node:fs";
import path from "node:path";
import { env } from "@/lib/env";
import { log } from "@/lib/log";
import { processWide } from "@/lib/process-wide";
import { loadSigningKey, StorageTokens } from "./signing";
import type { StorageBackend } from "./storage";

/**
 * The registry's storage as maintenance jobs reach it (the retention purge
 * cancelling abandoned uploads): the running registry's own client when this
 * process serves it (service.ts registers it), else one built from the
 * configuration, as `npm run gantry -- purge` needs: GANTRY_REGISTRY_BACKEND,
 * or the embedded distribution's address from the config it was last started
 * with (<data dir>/registry/config.yml), with the registry's signing key.
 * Null when there is no registry to reach (then only Gantry's rows are purged).
 */
const active = processWide("hosted-registry:active-storage", () => ({ backend: null as StorageBackend | null, diskRoot: null as string | null }));

/** `diskRoot`: the embedded storage's files (…/docker/registry/v2), which readers outside a request (air-gap bundles) read blobs from. */
export function setActiveStorage(backend: StorageBackend | null, diskRoot: string | null = null): void {
  active.backend = backend;
  active.diskRoot = backend ? diskRoot : null;
}

/** The running registry's storage, as this process serves it: null when it serves none. */
export function activeStorage(): { backend: StorageBackend; diskRoot: string | null } | null {
  return active.backend ? { backend: active.backend, diskRoot: active.diskRoot } : null;
}

export function storageForMaintenance(): StorageBackend | null {
  if (active.backend) return active.backend;
  const { registry } = env();
  if (!registry.enabled) return null;
  try {
    let origin: string;
    if (registry.backend) {
      origin = new URL(registry.backend).origin;
    } else {
      const config = JSON.parse(fs.readFileSync(path.join(registry.storageDir, "config.yml"), "utf8")) as { http?: { addr?: string } };
      if (!config.http?.addr) return null;
      origin = `http://${config.http.addr}`;
    }
    // Never generate a key here: without one, the registry never ran and holds no uploads.
    if (!registry.tokenSigning && !fs.existsSync(path.join(registry.storageDir, "token-signing.key"))) return null;
    const tokens = new StorageTokens(loadSigningKey(registry.storageDir, registry.tokenSigning));
    return { origin: () => origin, tokens };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") log.warn("the registry's storage cannot be reached for maintenance", { error: e instanceof Error ? e.message : String(e) });
    return null;
  }
}
