import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { db } from "@/lib/db";
import { signUp } from "@/lib/auth/sign-up";
import { createApp } from "@/lib/apps/apps";
import { contentPath } from "@/lib/cache/layout";
import { createRegistry } from "@/lib/registries/registries";
import { teamContextForUser } from "@/lib/teams/access";

/**
 * Cache rows for integration tests of the read side (stats, purge): what the
 * proxy's cache core writes, inserted directly. End-to-end tests never do this.
 */
let n = 0;
export const uniq = () => `${Date.now().toString(36)}${n++}`;

/** A team with one registry and the given apps (slugs made unique). */
export async function cacheTeam(apps: string[]) {
  const { user, team } = await signUp({ email: `cache-${uniq()}@example.com`, password: "correct horse battery", teamName: `Cache ${uniq()}` });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  const registry = await createRegistry(ctx, { name: "Reg", endpoint: "https://registry.example.com", username: "u", password: "p" });
  const created: Record<string, { id: string; slug: string }> = {};
  for (const name of apps) created[name] = await createApp(ctx, { name, slug: `${name.toLowerCase()}-${uniq()}` });
  return { ctx, teamId: ctx.team.id, registryId: registry.id, apps: created };
}

export function randomDigest(): string {
  return `sha256:${crypto.randomBytes(32).toString("hex")}`;
}

export async function link(teamId: string, registryId: string, appId: string, digest: string, size: bigint | number, repository = "acme/api") {
  await db.cacheLink.create({ data: { teamId, appId, registryId, repository, digest, kind: "blob", size: BigInt(size) } });
}

export async function usage(teamId: string, appId: string, hour: Date, counts: Partial<{ hits: number; misses: number; bytesFromCache: number; bytesFromUpstream: number; staleServes: number; evictions: number; evictedBytes: number }>) {
  const { bytesFromCache = 0, bytesFromUpstream = 0, evictedBytes = 0, ...ints } = counts;
  await db.cacheUsage.create({
    data: { teamId, appId, hour, ...ints, bytesFromCache: BigInt(bytesFromCache), bytesFromUpstream: BigInt(bytesFromUpstream), evictedBytes: BigInt(evictedBytes) },
  });
}

/** Writes a content file of `size` bytes for the digest under the cache directory. */
export function contentFile(dir: string, digest: string, size: number): string {
  const file = contentPath(dir, digest);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.alloc(size, 1));
  return file;
}
