import fs from "node:fs";
import path from "node:path";
import { db } from "@/lib/db";
import { recordBlob } from "./quota";

/**
 * Recomputes teams' registry usage (RegistryBlob, what the quota counts) from
 * what the storage holds. Run it after garbage collection (gc.ts): deleting a
 * tag or a manifest frees nothing by itself, and the collector frees blobs
 * without telling Gantry, so only then does usage go down. It is also the
 * repair for anything counted that distribution no longer has (an app
 * deleted, a blob pushed before usage was counted).
 *
 * Reads distribution's filesystem layout (the embedded storage, or a
 * backend's `filesystem` driver seen from this host): for each of a team's
 * apps, the blobs linked under repositories/<app id>/**: layers and configs
 * (`_layers`) and manifests (`_manifests/revisions`), each counted once per
 * team at the size of its data file; a link whose data the collector removed
 * counts nothing. Rows recorded while the walk ran are kept (a push racing
 * the reconcile is not forgotten). Other storage drivers (S3, GCS, Azure)
 * cannot be walked from here: usage is then what Gantry counted.
 */
export interface ReconcileReport {
  teams: number;
  blobs: number;
  bytes: number;
  added: number;
  removed: number;
}

/** `…/docker/registry/v2` under a distribution config's filesystem root (the config is JSON or YAML written as JSON, as Gantry writes it). */
export function storageRootOf(configFile: string): string {
  const config = JSON.parse(fs.readFileSync(configFile, "utf8")) as { storage?: { filesystem?: { rootdirectory?: string } } };
  const root = config.storage?.filesystem?.rootdirectory;
  if (!root) throw new Error(`${configFile} has no filesystem storage: usage can only be reconciled from a filesystem driver's files.`);
  return path.join(root, "docker", "registry", "v2");
}

const HEX = /^[a-f0-9]{64}$/;
const MAX_DEPTH = 32;

/** Digests linked anywhere under one app's repositories. */
function linkedDigests(appDir: string, out: Set<string>, depth = 0): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(appDir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const dir = path.join(appDir, entry.name);
    if (entry.name === "_layers") collectLinks(path.join(dir, "sha256"), out);
    else if (entry.name === "_manifests") collectLinks(path.join(dir, "revisions", "sha256"), out);
    else if (!entry.name.startsWith("_") && depth < MAX_DEPTH) linkedDigests(dir, out, depth + 1);
  }
}

function collectLinks(dir: string, out: Set<string>): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  for (const hex of names) if (HEX.test(hex) && fs.existsSync(path.join(dir, hex, "link"))) out.add(`sha256:${hex}`);
}

function blobSize(root: string, digest: string): number | null {
  const hex = digest.slice("sha256:".length);
  try {
    return fs.statSync(path.join(root, "blobs", "sha256", hex.slice(0, 2), hex, "data")).size;
  } catch {
    return null;
  }
}

/** Rewrites the usage rows of one team (or of every team) from the storage under `storageRoot` (see storageRootOf). */
export async function reconcileRegistryUsage(o: { storageRoot: string; teamId?: string }): Promise<ReconcileReport> {
  const startedAt = new Date();
  const teamIds = o.teamId
    ? [o.teamId]
    : [...new Set([...(await db.app.findMany({ select: { teamId: true } })).map((a) => a.teamId), ...(await db.registryBlob.findMany({ distinct: ["teamId"], select: { teamId: true } })).map((b) => b.teamId)])];
  const report: ReconcileReport = { teams: teamIds.length, blobs: 0, bytes: 0, added: 0, removed: 0 };
  for (const teamId of teamIds) {
    const digests = new Set<string>();
    for (const app of await db.app.findMany({ where: { teamId }, select: { id: true } })) linkedDigests(path.join(o.storageRoot, "repositories", app.id), digests);
    const held = new Map<string, number>();
    for (const digest of digests) {
      const size = blobSize(o.storageRoot, digest);
      if (size !== null) held.set(digest, size);
    }
    const rows = await db.registryBlob.findMany({ where: { teamId }, select: { digest: true, size: true, createdAt: true } });
    const gone = rows.filter((r) => !held.has(r.digest) && r.createdAt < startedAt).map((r) => r.digest);
    for (let i = 0; i < gone.length; i += 500) {
      report.removed += (await db.registryBlob.deleteMany({ where: { teamId, digest: { in: gone.slice(i, i + 500) }, createdAt: { lt: startedAt } } })).count;
    }
    const known = new Map(rows.map((r) => [r.digest, Number(r.size)]));
    for (const [digest, size] of held) {
      report.blobs++;
      report.bytes += size;
      if (!known.has(digest)) {
        await recordBlob(teamId, digest, size);
        report.added++;
      } else if (known.get(digest) !== size) {
        await db.registryBlob.updateMany({ where: { teamId, digest }, data: { size: BigInt(size) } });
      }
    }
  }
  return report;
}
