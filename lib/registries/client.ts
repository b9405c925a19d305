import "server-only";
import { LRUCache } from "lru-cache";
import { env } from "@/lib/env";
import { defaultHttpOptions, RegistryClient, type CredentialSource, type RegistryCredentials } from "@/lib/registry-client/client";
import type { HttpOptions } from "@/lib/registry-client/http";
import { credentialSource, type CloudRegistryRow } from "./cloud/sources";
import { registryCredentials } from "./registries";

/**
 * One client per (registry, version of its row, timeouts), shared by the proxy
 * and release probes: the password is decrypted once per change, not once per
 * request. Any change to the registry (endpoint, username, password) updates the
 * row's updatedAt, so the next caller builds a new client. A cloud registry's
 * clients share one credential source (lib/registries/cloud/sources.ts).
 */
const clients = new LRUCache<string, Promise<RegistryClient>>({ max: 1_000, ttl: 15 * 60_000 });

export type ClientRegistryRow = CloudRegistryRow;

/** A registry's credentials: the stored password (basic), or its cloud kind's refreshing token. */
export async function credentialsOf(teamId: string, registry: ClientRegistryRow): Promise<RegistryCredentials | CredentialSource> {
  return registry.kind === "basic" ? registryCredentials(teamId, registry) : credentialSource(teamId, registry);
}

export function registryClient(teamId: string, registry: ClientRegistryRow, timeouts: Partial<HttpOptions> = {}): Promise<RegistryClient> {
  const key = `${teamId}/${registry.id}@${registry.updatedAt.getTime()}/${JSON.stringify(timeouts)}`;
  let client = clients.get(key);
  if (!client) {
    const config = env();
    client = credentialsOf(teamId, registry).then(
      (credentials) =>
        new RegistryClient({
          endpoint: registry.endpoint,
          credentials,
          http: { ...defaultHttpOptions(config.allowedPrivateHosts), ...timeouts },
          trustedRealmHosts: config.trustedRealmHosts,
        }),
    );
    clients.set(key, client);
    client.catch(() => clients.delete(key)); // a failed decrypt is not remembered
  }
  return client;
}
