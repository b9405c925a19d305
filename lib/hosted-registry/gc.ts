import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { log } from "@/lib/log";
import { findDistributionBinary } from "./distribution";
import { planUntaggedDeletion } from "./gc-plan";
import { readDistributionConfig } from "./gc-config";
import { blobBytes, checkStorageAnswers, measureBlobs } from "./gc-storage";
import { countUntagged, deleteUntagged } from "./gc-untagged";
import { claimReadOnly, clearReadOnly, READ_ONLY_SETTLE_MS } from "./read-only";
import type { StorageBackend } from "./storage";
import { reconcileRegistryUsage } from "./usage-reconcile";

const run = promisify(execFile);

/**
 * Garbage collection of the registry's storage: distribution's own collector
 * (`docker-registry garbage-collect`), a stop-the-world mark and sweep that
 * must not run while anything is written. So the registry turns read-only
 * first, on every replica (RegistryState, seen within a second): pushes and
 * deletes get 503 with Retry-After, pulls go on. The switch has a deadline
 * (an hour) so a collector that dies cannot leave the registry read-only, and
 * a second collection is refused while one runs.
 *
 * It removes blobs no manifest references. Untagged manifests are kept unless
 * asked (`deleteUntagged`): customers may pull by digest. With it, every
 * manifest nothing keeps (gc-plan.ts says what keeps one) is first deleted by
 * digest in distribution, while the registry is read-only, then collected.
 * distribution's own `--delete-untagged` is not used: it goes by distribution's
 * tags (Gantry's tags live in its database) and, in 2.8, deletes the platform
 * manifests of a tagged index.
 */
export interface GcReport {
  dryRun: boolean;
  deleteUntagged: boolean;
  /** Untagged manifests deleted (dry run: that would be); null without deleteUntagged. */
  manifestsDeleted: number | null;
  /** Manifests something keeps (a tag, a release, an index, a subject, a recent push). */
  manifestsKept: number | null;
  /** Gantry's records of untagged manifests the storage does not have: left alone (is it the right storage?). */
  recordsMissing: number | null;
  /** Repositories left alone because a kept index could not be read (see the log). */
  repositoriesSkipped: number | null;
  /** Manifest deletes distribution failed (see the log). */
  deleteFailures: number | null;
  /** distribution's counts: blobs marked in use, blobs it deleted (dry run: already unreferenced). */
  blobsMarked: number | null;
  blobsEligible: number | null;
  manifestsEligible: number | null;
  /** Blobs and bytes freed (dry run: that would be); bytes when measurable (filesystem storage, or a dry run's estimate). */
  blobsFreed: number | null;
  bytesFreed: number | null;
  /** Teams' registry usage recomputed from the storage's files after collecting (filesystem storage only; null otherwise). */
  usage: { teams: number; bytes: number; removed: number; added: number } | null;
  readOnlySeconds: number;
}

export interface GcOptions {
  configFile: string;
  dryRun?: boolean;
  binary?: string;
  settleMs?: number;
  /** Delete untagged manifests nothing keeps, through this storage, before collecting. */
  deleteUntagged?: { backend: StorageBackend; minAgeMs?: number };
}

const DEADLINE_MS = 60 * 60 * 1000;
/** Untagged manifests younger than this stay: an index's platform manifests are pushed by digest before it. */
export const UNTAGGED_MIN_AGE_MS = 60 * 60 * 1000;

export async function collectGarbage(o: GcOptions): Promise<GcReport> {
  const facts = readDistributionConfig(o.configFile);
  const binary = o.binary ?? findDistributionBinary();
  if (!binary) throw new Error("The CNCF distribution registry is not installed (Debian: apt-get install docker-registry).");
  const untagged = o.deleteUntagged;
  if (untagged) await checkStorageAnswers(untagged.backend);
  const started = Date.now();
  if (!o.dryRun) {
    const until = await claimReadOnly(new Date(started + DEADLINE_MS), "garbage collection");
    if (until) throw new Error(`The registry is already read-only until ${until.toISOString()}: another garbage collection is running.`);
    // Writers that passed the read-only check just before it turned on finish their step.
    await new Promise((r) => setTimeout(r, o.settleMs ?? READ_ONLY_SETTLE_MS + 1000));
  }
  try {
    const report: GcReport = {
      dryRun: Boolean(o.dryRun),
      deleteUntagged: Boolean(untagged),
      manifestsDeleted: null,
      manifestsKept: null,
      recordsMissing: null,
      repositoriesSkipped: null,
      deleteFailures: null,
      blobsMarked: null,
      blobsEligible: null,
      manifestsEligible: null,
      blobsFreed: null,
      bytesFreed: null,
      usage: null,
      readOnlySeconds: 0,
    };
    const before = !o.dryRun && facts.blobsDir ? await measureBlobs(facts.blobsDir) : null;
    let estimate: { blobs: number; bytes: number } | null = null;
    if (untagged) {
      const plan = await planUntaggedDeletion(untagged.backend, { minAgeMs: untagged.minAgeMs ?? UNTAGGED_MIN_AGE_MS });
      report.manifestsKept = plan.kept;
      report.repositoriesSkipped = plan.skippedRepositories;
      if (o.dryRun) {
        const count = await countUntagged(untagged.backend, plan);
        Object.assign(report, { manifestsDeleted: count.deleted, recordsMissing: count.missing, deleteFailures: 0 });
        estimate = count;
      } else {
        const done = await deleteUntagged(untagged.backend, plan.remove);
        Object.assign(report, { manifestsDeleted: done.deleted, recordsMissing: done.missing, deleteFailures: done.failed });
        report.manifestsKept += done.spared;
      }
    }
    const collected = await runCollector(binary, o.configFile, Boolean(o.dryRun));
    Object.assign(report, { blobsMarked: collected.marked, blobsEligible: collected.eligible, manifestsEligible: collected.manifests });
    if (o.dryRun) {
      // What distribution would delete now (already unreferenced), plus what the deletions would free.
      const already = facts.blobsDir ? await blobBytes(facts.blobsDir, collected.digests) : collected.digests.length === 0 ? 0 : null;
      report.blobsFreed = collected.eligible === null ? null : collected.eligible + (estimate?.blobs ?? 0);
      report.bytesFreed = already === null ? null : already + (estimate?.bytes ?? 0);
    } else if (before && facts.blobsDir) {
      const after = await measureBlobs(facts.blobsDir);
      report.blobsFreed = before.blobs - after.blobs;
      report.bytesFreed = before.bytes - after.bytes;
    } else {
      report.blobsFreed = collected.eligible;
    }
    if (!o.dryRun && facts.blobsDir) {
      // The collector freed blobs without telling Gantry: usage against the quota follows the files.
      const r = await reconcileRegistryUsage({ storageRoot: path.dirname(facts.blobsDir) });
      report.usage = { teams: r.teams, bytes: r.bytes, removed: r.removed, added: r.added };
    }
    report.readOnlySeconds = o.dryRun ? 0 : Math.round((Date.now() - started) / 1000);
    log.info("registry garbage collection done", { ...report });
    return report;
  } finally {
    if (!o.dryRun) await clearReadOnly();
  }
}

async function runCollector(binary: string, configFile: string, dryRun: boolean) {
  const args = ["garbage-collect", ...(dryRun ? ["--dry-run"] : []), configFile];
  let out: string;
  try {
    const { stdout, stderr } = await run(binary, args, { maxBuffer: 256 * 1024 * 1024, timeout: DEADLINE_MS });
    out = `${stdout}\n${stderr}`;
  } catch (e) {
    const said = `${(e as { stdout?: string }).stdout ?? ""}\n${(e as { stderr?: string }).stderr ?? ""}`.trim();
    // A storage nothing was ever pushed to has no repositories directory, and distribution's collector stops there.
    if (/Path not found: \/docker\/registry\/v2\/repositories\b/.test(said)) return { marked: 0, eligible: 0, manifests: 0, digests: [] };
    throw new Error(`distribution's garbage-collect failed: ${said.slice(-2000) || (e instanceof Error ? e.message : String(e))}`);
  }
  // "N blobs marked, M blobs and K manifests eligible for deletion", then "blob eligible for deletion: <digest>" per blob.
  const m = /(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion/.exec(out);
  const digests = [...out.matchAll(/blob eligible for deletion: (sha(?:256|512):[a-f0-9]+)/g)].map((x) => x[1]!);
  return { marked: m ? Number(m[1]) : null, eligible: m ? Number(m[2]) : null, manifests: m ? Number(m[3]) : null, digests };
}
