import "server-only";
import { db } from "@/lib/db";
import { log } from "@/lib/log";
import { registryClient } from "@/lib/registries/client";
import type { RegistryClient } from "@/lib/registry-client/client";
import { manifestReference, parseReference } from "@/lib/registry-client/reference";
import type { ProbeResult } from "@/lib/rewrite/probe";

/**
 * The anonymous probe sees no digest for private images (the registry refuses
 * it), yet those are the images a release ships through the proxy, and "a tag
 * moved" matters most for them. For every rewritten image on one of the team's
 * registries, ask that registry with its stored credentials (a HEAD, as the
 * proxy would) and record the digest it answers. Failures leave the digest
 * empty: the status and reason are the probe's.
 */
export async function withPrivateDigests(teamId: string, results: ProbeResult[], signal?: AbortSignal): Promise<ProbeResult[]> {
  results = await withRegistryDigests(teamId, results);
  const wanted = results.filter((r) => r.rewritten && r.registry && !r.digest);
  if (wanted.length === 0) return results;
  const rows = await db.registry.findMany({
    where: { teamId, id: { in: [...new Set(wanted.map((r) => r.registry!.id))] } },
    select: { id: true, endpoint: true, apiHost: true, kind: true, username: true, cloudConfig: true, updatedAt: true },
  });
  const clients = new Map<string, RegistryClient>();
  for (const row of rows) {
    try {
      clients.set(row.id, await registryClient(teamId, row));
    } catch (e) {
      log.warn("release digest lookup: no client for registry", { registryId: row.id, error: e });
    }
  }
  const digests = new Map<string, string>();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < wanted.length; i = next++) {
      signal?.throwIfAborted();
      const r = wanted[i]!;
      const client = clients.get(r.registry!.id);
      if (!client) continue;
      try {
        const ref = parseReference(r.normalized ?? r.image);
        const m = await client.manifest(ref.path, manifestReference(ref), "HEAD", signal);
        if (m.status === 200 && m.digest) digests.set(r.image, m.digest);
      } catch (e) {
        signal?.throwIfAborted();
        log.info("release digest lookup failed", { image: r.image, error: e instanceof Error ? e.message : String(e) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, wanted.length) }, worker));
  return results.map((r) => (digests.has(r.image) ? { ...r, digest: digests.get(r.image) } : r));
}

/**
 * Images on Gantry's own registry ("<registry domain>/<app slug>/<image>:<tag>"):
 * the digest is the tag's as Gantry recorded it (RegistryTag), for the team's
 * own apps. A pinned license may then pull that digest even after the tag moves.
 */
async function withRegistryDigests(teamId: string, results: ProbeResult[]): Promise<ProbeResult[]> {
  const wanted = new Map<string, { slug: string; repository: string; tag: string }>();
  for (const r of results) {
    if (r.status !== "vendor_registry" || r.digest) continue;
    try {
      const ref = parseReference(r.normalized ?? r.image);
      const [slug, ...rest] = ref.path.split("/");
      if (slug && rest.length > 0 && ref.tag) wanted.set(r.image, { slug, repository: rest.join("/"), tag: ref.tag });
    } catch {
      // not a reference: nothing to look up
    }
  }
  if (wanted.size === 0) return results;
  const digests = new Map<string, string>();
  for (const [image, w] of wanted) {
    const row = await db.registryTag.findFirst({ where: { teamId, app: { slug: w.slug }, repository: w.repository, tag: w.tag }, select: { digest: true } });
    if (row) digests.set(image, row.digest);
  }
  return results.map((r) => (digests.has(r.image) ? { ...r, digest: digests.get(r.image) } : r));
}
