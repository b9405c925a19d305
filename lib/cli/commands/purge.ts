import { purgeExpired, type RetentionReport } from "@/lib/retention/retention";
import { CliError } from "../args";

/**
 * `purge [--pull-log-days N]`: deletes what has aged out (lib/retention/retention.ts):
 * pull events older than GANTRY_PULL_LOG_DAYS, ended rate-limit windows,
 * long-expired invitations, and uploads to Gantry's own registry without data
 * for an hour (cancelled in its storage: lib/hosted-registry/maintenance.ts
 * finds it from the configuration). Safe while servers run (they purge hourly too).
 */
export async function purgeCommand(options: Record<string, string | true>): Promise<RetentionReport> {
  const { "pull-log-days": days, ...unknown } = options;
  if (Object.keys(unknown).length) throw new CliError("purge takes only --pull-log-days N.");
  if (days === undefined) return purgeExpired();
  if (days === true || !/^\d+$/.test(days) || Number(days) < 1) throw new CliError("--pull-log-days needs a whole number of days (at least 1).");
  return purgeExpired({ pullLogDays: Number(days) });
}
