import "server-only";
import { LRUCache } from "lru-cache";
import { db } from "@/lib/db";
import { log } from "@/lib/log";
import { processWide } from "@/lib/process-wide";
import { loadSecret } from "@/lib/secrets/store";
import { parseCloudConfig } from "../kinds";
import { RefreshingCredentials } from "./lifecycle";
import { mintFor } from "./mint";

/** Where a cloud registry's secret is sealed (the same binding as a basic registry's password). */
const SECRET_PURPOSE = "registry.password";
/** A failed mint is written to the registry's page at most this often per registry and process. */
const FAILURE_WRITE_INTERVAL_MS = 60_000;

export interface CloudRegistryRow {
  id: string;
  kind: string;
  endpoint: string;
  apiHost: string;
  username: string;
  cloudConfig: string | null;
  updatedAt: Date;
}

/**
 * One credential source per (registry, version of its row) in this process,
 * shared by every client the proxy and the probes build for it: one token per
 * registry, whatever the timeouts of the client using it. A change to the row
 * (endpoint, identity, secret) changes updatedAt, so the next caller gets a
 * new source and the old token is never used again.
 */
const sources = processWide("cloud-credential-sources", () => new LRUCache<string, RefreshingCredentials>({ max: 5_000, ttl: 24 * 3600_000 }));

export function credentialSource(teamId: string, registry: CloudRegistryRow): RefreshingCredentials {
  const key = `${teamId}/${registry.id}@${registry.updatedAt.getTime()}`;
  let source = sources.get(key);
  if (!source) {
    let lastFailureWrite = 0;
    const config = parseCloudConfig(registry.cloudConfig);
    source = new RefreshingCredentials(
      async () => {
        const secret = config.ambient ? undefined : await loadSecret({ teamId, resourceId: registry.id, purpose: SECRET_PURPOSE });
        return mintFor({ id: registry.id, kind: registry.kind, endpoint: registry.endpoint, apiHost: registry.apiHost, username: registry.username, config }, secret);
      },
      {
        minted: (at, expiresAt) => {
          log.info("cloud registry credentials minted", { registryId: registry.id, kind: registry.kind, expiresAt: expiresAt.toISOString() });
          void writeState(teamId, registry.id, { lastMintAt: at, expiresAt, lastError: null, lastErrorAt: null });
        },
        failed: (at, error) => {
          log.warn("cloud registry credentials failed", { registryId: registry.id, kind: registry.kind, reason: error.kind, message: error.message });
          if (at.getTime() - lastFailureWrite < FAILURE_WRITE_INTERVAL_MS) return;
          lastFailureWrite = at.getTime();
          void writeState(teamId, registry.id, { lastErrorAt: at, lastError: error.message.slice(0, 500) });
        },
      },
    );
    sources.set(key, source);
  }
  return source;
}

async function writeState(teamId: string, registryId: string, data: { lastMintAt?: Date; expiresAt?: Date; lastError?: string | null; lastErrorAt?: Date | null }) {
  try {
    await db.registryCredentialState.upsert({ where: { registryId }, create: { registryId, teamId, ...data }, update: data, select: { registryId: true } });
  } catch (e) {
    // The registry may have been deleted meanwhile; the page is a convenience, the pull is what matters.
    log.debug("cloud credential state not written", { registryId, error: e });
  }
}

/** What the registry's page shows about its token: never the token. */
export function credentialState(teamId: string, registryId: string) {
  return db.registryCredentialState.findFirst({ where: { registryId, teamId }, select: { lastMintAt: true, expiresAt: true, lastErrorAt: true, lastError: true } });
}
