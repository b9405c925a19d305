import { execFile } from "node:child_process";
import fs from "node:fs";
import { promisify } from "node:util";
import { log } from "@/lib/log";
import { findDistributionBinary } from "./distribution";
import { clearReadOnly, READ_ONLY_SETTLE_MS, setReadOnly } from "./read-only";

const run = promisify(execFile);

/**
 * Garbage collection of the registry's storage: distribution's own collector
 * (`docker-registry garbage-collect`), a stop-the-world mark and sweep that
 * must not run while anything is written. So the registry turns read-only
 * first, on every replica (RegistryState, seen within a second): pushes and
 * deletes get 503 with Retry-After, pulls go on. The switch has a deadline
 * (an hour) so a collector that dies cannot leave the registry read-only.
 *
 * It removes blobs no manifest references (after manifests were deleted by
 * digest). Untagged manifests are kept: customers may pull by digest.
 */
export interface GcReport {
  dryRun: boolean;
  blobsMarked: number | null;
  blobsEligible: number | null;
  manifestsEligible: number | null;
  readOnlySeconds: number;
}

const DEADLINE_MS = 60 * 60 * 1000;

export async function collectGarbage(o: { configFile: string; dryRun?: boolean; binary?: string; settleMs?: number }): Promise<GcReport> {
  if (!fs.existsSync(o.configFile)) throw new Error(`No registry config at ${o.configFile}: start Gantry once (it writes it), or pass the config of the distribution you run.`);
  const binary = o.binary ?? findDistributionBinary();
  if (!binary) throw new Error("The CNCF distribution registry is not installed (Debian: apt-get install docker-registry).");
  const started = Date.now();
  if (!o.dryRun) {
    await setReadOnly(new Date(started + DEADLINE_MS), "garbage collection");
    // Writers that passed the read-only check just before it turned on finish their step.
    await new Promise((r) => setTimeout(r, o.settleMs ?? READ_ONLY_SETTLE_MS + 1000));
  }
  try {
    const args = ["garbage-collect", ...(o.dryRun ? ["--dry-run"] : []), o.configFile];
    const { stdout, stderr } = await run(binary, args, { maxBuffer: 256 * 1024 * 1024, timeout: DEADLINE_MS });
    const out = `${stdout}\n${stderr}`;
    // "N blobs marked, M blobs and K manifests eligible for deletion"
    const m = /(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion/.exec(out);
    const report = {
      dryRun: Boolean(o.dryRun),
      blobsMarked: m ? Number(m[1]) : null,
      blobsEligible: m ? Number(m[2]) : null,
      manifestsEligible: m ? Number(m[3]) : null,
      readOnlySeconds: o.dryRun ? 0 : Math.round((Date.now() - started) / 1000),
    };
    log.info("registry garbage collection done", { ...report });
    return report;
  } finally {
    if (!o.dryRun) await clearReadOnly();
  }
}
