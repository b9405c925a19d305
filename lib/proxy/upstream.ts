import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { registryCredentials } from "@/lib/registries/registries";
import { defaultHttpOptions, RegistryClient } from "@/lib/registry-client/client";
import { STREAM_FLOOR } from "@/lib/registry-client/http";
import { ProxyError } from "./errors";

/**
 * Resolves proxy/<app>/<upstream>/… to one of the app's team's registries by
 * its path name (Docker Hub's spellings all mean the registry whose path name
 * is docker.io), and builds a client with its credentials decrypted for this
 * request only.
 */
const DOCKER_HUB_PATHS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

export async function resolveUpstream(appSlug: string, upstream: string) {
  const app = await db.app.findUnique({ where: { slug: appSlug }, select: { id: true, teamId: true, slug: true, name: true } });
  if (!app) throw new ProxyError(404, "NAME_UNKNOWN", `No application "${appSlug}" on this proxy.`);
  const pathNames = DOCKER_HUB_PATHS.has(upstream) ? [...DOCKER_HUB_PATHS] : [upstream];
  const registry = await db.registry.findFirst({
    where: { teamId: app.teamId, pathName: { in: pathNames } },
    select: { id: true, endpoint: true, username: true, pathName: true },
  });
  if (!registry) throw new ProxyError(404, "NAME_UNKNOWN", `No upstream registry "${upstream}" for application "${appSlug}".`);
  return { app, registry };
}

export async function upstreamClient(teamId: string, registry: { id: string; endpoint: string; username: string }) {
  const config = env();
  return new RegistryClient({
    endpoint: registry.endpoint,
    credentials: await registryCredentials(teamId, registry),
    http: { ...defaultHttpOptions(config.allowedPrivateHosts), ...proxyTimeouts },
    trustedRealmHosts: config.trustedRealmHosts,
  });
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
