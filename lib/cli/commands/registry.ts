import path from "node:path";
import { env } from "@/lib/env";
import { collectGarbage, type GcReport } from "@/lib/hosted-registry/gc";
import { CliError, parseArgs } from "../args";

/**
 * `registry gc [--dry-run] [--config FILE]`: garbage collection of Gantry's own
 * registry (lib/hosted-registry/gc.ts). The embedded distribution's config is
 * <data dir>/registry/config.yml; with GANTRY_REGISTRY_BACKEND, pass the config
 * of the distribution you run (run this where its storage is reachable).
 */
export async function registryCommand(argv: string[]): Promise<GcReport> {
  const { command, options } = parseArgs(argv);
  if (command !== "gc") throw new CliError("Usage: registry gc [--dry-run] [--config FILE]");
  const { "dry-run": dryRun, config, ...unknown } = options;
  if (Object.keys(unknown).length) throw new CliError("registry gc takes only --dry-run and --config FILE.");
  if (config === true) throw new CliError("--config needs a file.");
  if (dryRun !== undefined && dryRun !== true) throw new CliError("--dry-run takes no value.");
  return collectGarbage({ configFile: config ?? path.join(env().dataDir, "registry", "config.yml"), dryRun: dryRun === true });
}
