import { LRUCache } from "lru-cache";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { registryCredentials } from "@/lib/registries/registries";
import { defaultHttpOptions, RegistryClient } from "@/lib/registry-client/client";
import { STREAM_FLOOR } from "@/lib/registry-client/http";
import { ProxyError } from "./errors";

/**
 * Resolves proxy/<app>/<upstream>/… to one of the app's team's registries by
 * its path name (Docker Hub's spellings all mean the registry whose path name
 * is docker.io), and keeps one client per (registry, version of its row):
 * the password is decrypted once per change, not once per request. Any change
 * to the registry (endpoint, username, password) updates the row's updatedAt,
 * so the next request builds a new client.
 */
const DOCKER_HUB_PATHS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

export async function resolveUpstream(appSlug: string, upstream: string) {
  const app = await db.app.findUnique({ where: { slug: appSlug }, select: { id: true, teamId: true, slug: true, name: true } });
  if (!app) throw new ProxyError(404, "NAME_UNKNOWN", `No application "${appSlug}" on this proxy.`);
  const pathNames = DOCKER_HUB_PATHS.has(upstream) ? [...DOCKER_HUB_PATHS] : [upstream];
  const registry = await db.registry.findFirst({
    where: { teamId: app.teamId, pathName: { in: pathNames } },
    select: { id: true, endpoint: true, username: true, pathName: true, updatedAt: true },
  });
  if (!registry) throw new ProxyError(404, "NAME_UNKNOWN", `No upstream registry "${upstream}" for application "${appSlug}".`);
  return { app, registry };
}

const clients = new LRUCache<string, Promise<RegistryClient>>({ max: 1_000, ttl: 15 * 60_000 });

export async function upstreamClient(teamId: string, registry: { id: string; endpoint: string; username: string; updatedAt: Date }) {
  const key = `${teamId}/${registry.id}@${registry.updatedAt.getTime()}/${JSON.stringify(proxyTimeouts)}`;
  let client = clients.get(key);
  if (!client) {
    const config = env();
    client = registryCredentials(teamId, registry).then(
      (credentials) =>
        new RegistryClient({
          endpoint: registry.endpoint,
          credentials,
          http: { ...defaultHttpOptions(config.allowedPrivateHosts), ...proxyTimeouts },
          trustedRealmHosts: config.trustedRealmHosts,
        }),
    );
    clients.set(key, client);
    client.catch(() => clients.delete(key)); // a failed decrypt is not remembered
  }
  return client;
}

/**
 * Timeouts for pull-through; tests shorten them to see a 504 quickly.
 * totalTimeoutMs bounds every buffered upstream exchange (token, manifest,
 * tags: headers and body); blobs are streamed without an overall deadline but
 * under proxyStreamFloor (see STREAM_FLOOR for why a floor and not a cap).
 */
export const proxyTimeouts = { connectTimeoutMs: 5_000, headersTimeoutMs: 30_000, bodyTimeoutMs: 60_000, totalTimeoutMs: 30_000 };

/** The minimum throughput of a streamed blob; tests shorten the window. */
export const proxyStreamFloor = { ...STREAM_FLOOR };
