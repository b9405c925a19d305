import "server-only";
import { LookupCache } from "@/lib/lookup-cache";
import { db } from "@/lib/db";
import { processWide } from "@/lib/process-wide";

/**
 * A team's registry by the path name the proxy uses (/proxy/<app>/<path name>/…);
 * Docker Hub's spellings all mean the registry whose path name is docker.io.
 * Found registries are remembered for 500 ms per (team, name), like license
 * decisions; a change made in this process is seen at once (registries.ts
 * calls forgetRegistryLookups), elsewhere within 500 ms.
 */
const DOCKER_HUB_PATHS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

export type RegistryByPath = { id: string; endpoint: string; apiHost: string; kind: string; username: string; cloudConfig: string | null; pathName: string; updatedAt: Date };

// One cache per process (processWide): registries.ts, in Next's bundle, forgets what the proxy reads.
// One load in flight per (team, name); misses are remembered too (a new registry clears the cache).
const recent = processWide("registry-lookups-v2", () => new LookupCache<RegistryByPath | null>({ max: 5_000, ttlMs: 500 }));

export function teamRegistryByPath(teamId: string, upstream: string): Promise<RegistryByPath | null> {
  const pathNames = DOCKER_HUB_PATHS.has(upstream) ? [...DOCKER_HUB_PATHS] : [upstream];
  return recent.get(`${teamId}/${upstream}`, () =>
    db.registry.findFirst({
      where: { teamId, pathName: { in: pathNames } },
      select: { id: true, endpoint: true, apiHost: true, kind: true, username: true, cloudConfig: true, pathName: true, updatedAt: true },
    }),
  );
}

export function forgetRegistryLookups(): void {
  recent.clear();
}
