import path from "node:path";
import { env } from "@/lib/env";
import { collectGarbage, UNTAGGED_MIN_AGE_MS, type GcReport } from "@/lib/hosted-registry/gc";
import { gcStorageBackend } from "@/lib/hosted-registry/gc-config";
import { CliError, parseArgs } from "../args";

const USAGE = "Usage: registry gc [--dry-run] [--delete-untagged [--min-age MINUTES]] [--config FILE]";

/**
 * `registry gc [--dry-run] [--delete-untagged [--min-age MINUTES]] [--config FILE]`:
 * garbage collection of Gantry's own registry (lib/hosted-registry/gc.ts). The
 * embedded distribution's config is <data dir>/registry/config.yml; with
 * GANTRY_REGISTRY_BACKEND, pass the config of the distribution you run (run
 * this where its storage is reachable). --delete-untagged deletes manifests
 * through distribution's API, so distribution must be up: at
 * GANTRY_REGISTRY_BACKEND, else at the address in the config.
 */
export async function registryCommand(argv: string[]): Promise<GcReport> {
  const { command, options } = parseArgs(argv);
  if (command !== "gc") throw new CliError(USAGE);
  const { "dry-run": dryRun, "delete-untagged": deleteUntagged, "min-age": minAge, config, ...unknown } = options;
  if (Object.keys(unknown).length) throw new CliError(`registry gc takes only --dry-run, --delete-untagged, --min-age MINUTES and --config FILE.\n${USAGE}`);
  if (config === true) throw new CliError("--config needs a file.");
  if (dryRun !== undefined && dryRun !== true) throw new CliError("--dry-run takes no value.");
  if (deleteUntagged !== undefined && deleteUntagged !== true) throw new CliError("--delete-untagged takes no value.");
  if (minAge !== undefined && deleteUntagged === undefined) throw new CliError("--min-age applies to --delete-untagged only.");
  if (minAge !== undefined && (minAge === true || !/^\d{1,6}$/.test(minAge))) throw new CliError("--min-age takes a whole number of minutes (0: no grace).");
  const configFile = config ?? path.join(env().registry.storageDir, "config.yml");
  let backend;
  if (deleteUntagged) {
    try {
      backend = gcStorageBackend({ configFile, backendUrl: env().registry.backend, signing: env().registry.tokenSigning });
    } catch (e) {
      throw new CliError(e instanceof Error ? e.message : String(e), 1);
    }
  }
  return collectGarbage({
    configFile,
    dryRun: dryRun === true,
    deleteUntagged: backend ? { backend, minAgeMs: minAge === undefined ? UNTAGGED_MIN_AGE_MS : Number(minAge) * 60_000 } : undefined,
  });
}
