import { db } from "@/lib/db";
import { teamRegistryByPath, type RegistryByPath } from "@/lib/registries/by-path";
import { registryClient, type ClientRegistryRow } from "@/lib/registries/client";
import { STREAM_FLOOR } from "@/lib/registry-client/http";
import { ProxyError } from "./errors";

/** The team's registry behind proxy/<app>/<upstream>/…; the team comes from the license decision. */
export async function resolveRegistry(teamId: string, upstream: string, appSlug: string): Promise<RegistryByPath> {
  const registry = await teamRegistryByPath(teamId, upstream);
  if (!registry) throw new ProxyError(404, "NAME_UNKNOWN", `No upstream registry "${upstream}" for application "${appSlug}".`);
  return registry;
}

/** An app's display name, for the (rare) answers that name it. */
export async function appName(appId: string): Promise<string> {
  return (await db.app.findUnique({ where: { id: appId }, select: { name: true } }))?.name ?? "this application";
}

/** The registry's shared client, with the proxy's timeouts (lib/registries/client.ts). */
export function upstreamClient(teamId: string, registry: ClientRegistryRow) {
  return registryClient(teamId, registry, proxyTimeouts);
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
