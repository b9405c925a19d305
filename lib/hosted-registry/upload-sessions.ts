import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { log } from "@/lib/log";
import { serializable } from "@/lib/transactions";
import { ProxyError } from "@/lib/proxy/errors";
import type { Principal } from "./access";
import { callStorage, deleteAccess, storageName, type StorageBackend } from "./storage";

/**
 * Open upload sessions (RegistryUpload), bounded per principal
 * (GANTRY_REGISTRY_MAX_UPLOADS_PER_PRINCIPAL, 20) and per team
 * (GANTRY_REGISTRY_MAX_UPLOADS_PER_TEAM, 100): every session holds a file in
 * distribution's storage and a row here, and a client that opens sessions
 * without ever finishing them would otherwise pile both up. A session is
 * open until it is closed (PUT), cancelled (DELETE), refused, or abandoned:
 * no data for ABANDONED_AFTER_MS, when the retention purge cancels it in
 * distribution and deletes its row (purgeAbandonedUploads).
 */
export const ABANDONED_AFTER_MS = 3600_000;
/** A body still streaming keeps its session alive (well under ABANDONED_AFTER_MS). */
export const TOUCH_EVERY_MS = 5 * 60_000;

/** "user:<id>" / "token:<id>": who an upload session belongs to. */
export function principalKey(p: Principal): string {
  return p.kind === "user" ? `user:${p.userId}` : p.kind === "token" ? `token:${p.tokenId}` : `license:${p.keyHash}`;
}

function tooMany(who: "principal" | "team", limit: number): ProxyError {
  const whose = who === "principal" ? "You have" : "Your team has";
  const variable = who === "principal" ? "GANTRY_REGISTRY_MAX_UPLOADS_PER_PRINCIPAL" : "GANTRY_REGISTRY_MAX_UPLOADS_PER_TEAM";
  return new ProxyError(
    429,
    "TOOMANYREQUESTS",
    `${whose} ${limit} blob uploads open on this registry, the most allowed (${variable}): finish or cancel (DELETE) open uploads, or push fewer layers in parallel, then retry. Uploads left without data for an hour are cancelled.`,
    { "retry-after": "60" },
  );
}

/** Refuses a new session when the principal or the team is at its limit (before distribution is asked). */
export async function checkUploadLimits(teamId: string, principal: string): Promise<void> {
  const { maxUploadsPerPrincipal, maxUploadsPerTeam } = env().registry;
  const [mine, team] = await Promise.all([db.registryUpload.count({ where: { principal } }), db.registryUpload.count({ where: { teamId } })]);
  if (mine >= maxUploadsPerPrincipal) throw tooMany("principal", maxUploadsPerPrincipal);
  if (team >= maxUploadsPerTeam) throw tooMany("team", maxUploadsPerTeam);
}

export interface NewSession {
  id: string;
  appId: string;
  teamId: string;
  principal: string;
  repository: string;
  location: string;
}

/**
 * Records a session when the principal and the team are under their limits:
 * the counts and the insert in one serializable transaction (retried on a
 * serialization failure), so a burst of concurrent starts (on any replica)
 * admits exactly the sessions that fit, never one more. An earlier version
 * ranked rows by (createdAt, id) after inserting them; a row stamped earlier
 * but committed later was invisible to the later start's count, and a burst of
 * six admitted four against a limit of three (CI, PostgreSQL and SQLite alike).
 */
export async function openUploadSession(s: NewSession): Promise<void> {
  const { maxUploadsPerPrincipal, maxUploadsPerTeam } = env().registry;
  await serializable(async (tx) => {
    const mine = await tx.registryUpload.count({ where: { principal: s.principal } });
    if (mine >= maxUploadsPerPrincipal) throw tooMany("principal", maxUploadsPerPrincipal);
    const team = await tx.registryUpload.count({ where: { teamId: s.teamId } });
    if (team >= maxUploadsPerTeam) throw tooMany("team", maxUploadsPerTeam);
    await tx.registryUpload.create({ data: { ...s, offset: 0n } });
  });
}

/**
 * Cancels an upload in distribution (best effort: distribution purges what is
 * left after a week). distribution authorizes any DELETE as the `delete`
 * action, an upload's too.
 */
export async function cancelInStorage(backend: StorageBackend, appId: string, repository: string, location: string): Promise<void> {
  try {
    const upstream = await callStorage(backend, { method: "DELETE", path: location, access: deleteAccess(storageName(appId, repository)), signal: AbortSignal.timeout(10_000) });
    const text = await upstream.body.text();
    if (upstream.statusCode >= 300 && upstream.statusCode !== 404) log.warn("the registry's storage did not cancel an upload", { status: upstream.statusCode, body: text.slice(0, 300) });
  } catch (e) {
    log.warn("could not cancel an upload in the registry's storage", { error: e instanceof Error ? e.message : String(e) });
  }
}

/** Deletes a session's row and cancels it in distribution. */
export async function dropSession(backend: StorageBackend, upload: { id: string; appId: string; repository: string; location: string }): Promise<void> {
  await db.registryUpload.deleteMany({ where: { id: upload.id } });
  await cancelInStorage(backend, upload.appId, upload.repository, upload.location);
}

/** Marks a session alive while its body streams (a long PATCH is not abandoned). Returns a stop function. */
export function keepAlive(id: string): () => void {
  const timer = setInterval(() => {
    db.registryUpload.updateMany({ where: { id }, data: { updatedAt: new Date() } }).catch((e: unknown) => log.warn("could not mark an upload alive", { error: e instanceof Error ? e.message : String(e) }));
  }, TOUCH_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Cancels sessions without data for `idleMs` (default an hour): each row is
 * claimed by a conditional delete (still idle), so on several replicas each
 * session is cancelled once, and a session that came alive meanwhile is kept.
 * Bounded: `batch` rows per round. `backend`: where to cancel (null: rows
 * only; distribution purges its files after a week).
 */
export async function purgeAbandonedUploads(o: { now?: Date; idleMs?: number; batch?: number; backend: () => StorageBackend | null }): Promise<number> {
  const before = new Date((o.now ?? new Date()).getTime() - (o.idleMs ?? ABANDONED_AFTER_MS));
  const batch = o.batch ?? 100;
  let purged = 0;
  let backend: StorageBackend | null | undefined;
  for (;;) {
    const rows = await db.registryUpload.findMany({ where: { updatedAt: { lt: before } }, orderBy: { updatedAt: "asc" }, take: batch, select: { id: true, appId: true, repository: true, location: true } });
    for (const row of rows) {
      const { count } = await db.registryUpload.deleteMany({ where: { id: row.id, updatedAt: { lt: before } } });
      if (count !== 1) continue;
      purged++;
      backend ??= o.backend();
      if (backend) await cancelInStorage(backend, row.appId, row.repository, row.location);
    }
    if (rows.length < batch) return purged;
  }
}
