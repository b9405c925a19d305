import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { humanBytes } from "@/lib/format/bytes";
import { ProxyError } from "@/lib/proxy/errors";

/**
 * The registry quota (GANTRY_REGISTRY_TEAM_QUOTA_BYTES, 0: unlimited): bytes a
 * team may keep in Gantry's own registry, across its apps.
 *
 * What counts: every blob distribution accepted through Gantry for one of the
 * team's apps (RegistryBlob), once per team and digest however many
 * repositories link it: layers and configs (an upload closed, a monolithic
 * upload, a cross-repository mount) and manifests (distribution stores those
 * as blobs too, and a tenant could otherwise fill the disk with them), plus
 * the bytes in the team's open upload sessions, so parallel uploads cannot
 * each pass the check alone. A push over the quota is refused with 403 DENIED
 * at its start, before a body with a declared length is read, and as soon as
 * a streamed body crosses it. Concurrent streams of one team can overshoot by
 * what they carry between two checks (one request's body at most each).
 *
 * Deleting tags or manifests frees nothing until garbage collection; after
 * it, reconcileRegistryUsage (usage-reconcile.ts) rewrites the rows from what
 * the storage holds.
 */
export interface RegistryUsage {
  /** Blobs accepted, deduplicated per team. */
  storedBytes: number;
  /** Bytes received by the team's open upload sessions (not yet blobs). */
  uploadingBytes: number;
  /** GANTRY_REGISTRY_TEAM_QUOTA_BYTES; 0: unlimited. */
  quotaBytes: number;
}

export async function registryUsage(teamId: string): Promise<RegistryUsage> {
  const [stored, uploading] = await Promise.all([
    db.registryBlob.aggregate({ where: { teamId }, _sum: { size: true } }),
    db.registryUpload.aggregate({ where: { teamId }, _sum: { offset: true } }),
  ]);
  return { storedBytes: Number(stored._sum.size ?? 0n), uploadingBytes: Number(uploading._sum.offset ?? 0n), quotaBytes: env().registry.teamQuotaBytes };
}

/** Bytes the team may still add (Infinity without a quota). */
export const quotaRoom = (u: RegistryUsage) => (u.quotaBytes === 0 ? Infinity : u.quotaBytes - u.storedBytes - u.uploadingBytes);

/** 403 DENIED naming the quota and the usage; `adding`: the bytes the refused request would have added, when known. */
export function overQuota(u: RegistryUsage, adding?: number): ProxyError {
  const uploading = u.uploadingBytes > 0 ? ` plus ${humanBytes(u.uploadingBytes)} in open uploads` : "";
  const adds = adding === undefined ? "" : `; this request adds ${adding} more`;
  return new ProxyError(
    403,
    "DENIED",
    `This push would exceed your team's registry quota of ${humanBytes(u.quotaBytes)}: ${humanBytes(u.storedBytes)} stored${uploading} (${u.storedBytes + u.uploadingBytes} of ${u.quotaBytes} bytes used${adds}). Delete images you no longer ship and have the operator run registry garbage collection, or ask the operator to raise GANTRY_REGISTRY_TEAM_QUOTA_BYTES.`,
  );
}

/** Refuses a push that would add `adding` bytes over the quota (0: refuses only a team already at it). */
export async function checkQuota(teamId: string, adding: number): Promise<void> {
  if (env().registry.teamQuotaBytes === 0) return;
  const usage = await registryUsage(teamId);
  const room = quotaRoom(usage);
  if (adding > room || room <= 0) throw overQuota(usage, adding || undefined);
}

/** A manifest PUT: refused when its bytes are new to the team and over the quota (re-tagging what the team holds always works). */
export async function checkManifestQuota(teamId: string, digest: string, size: number): Promise<void> {
  if (env().registry.teamQuotaBytes === 0) return;
  const known = await db.registryBlob.findUnique({ where: { teamId_digest: { teamId, digest } }, select: { size: true } });
  if (!known) await checkQuota(teamId, size);
}

/** Counts a blob distribution accepted for the team (once per team and digest). */
export async function recordBlob(teamId: string, digest: string, size: number): Promise<void> {
  try {
    await db.registryBlob.upsert({ where: { teamId_digest: { teamId, digest } }, create: { teamId, digest, size: BigInt(size) }, update: {} });
  } catch (e) {
    // Two replicas recording the same blob at once: the other one's row counts it.
    if ((e as { code?: string }).code !== "P2002") throw e;
  }
}
