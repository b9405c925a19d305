import "server-only";
import { LRUCache } from "lru-cache";
import { env } from "@/lib/env";
import { defaultHttpOptions, RegistryClient } from "@/lib/registry-client/client";
import type { HttpOptions } from "@/lib/registry-client/http";
import { registryCredentials } from "./registries";

/**
 * One client per (registry, version of its row, timeouts), shared by the proxy
 * and release probes: the password is decrypted once per change, not once per
 * request. Any change to the registry (endpoint, username, password) updates the
 * row's updatedAt, so the next caller builds a new client.
 */
const clients = new LRUCache<string, Promise<RegistryClient>>({ max: 1_000, ttl: 15 * 60_000 });

export function registryClient(
  teamId: string,
  registry: { id: string; endpoint: string; username: string; updatedAt: Date },
  timeouts: Partial<HttpOptions> = {},
): Promise<RegistryClient> {
  const key = `${teamId}/${registry.id}@${registry.updatedAt.getTime()}/${JSON.stringify(timeouts)}`;
  let client = clients.get(key);
  if (!client) {
    const config = env();
    client = registryCredentials(teamId, registry).then(
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
