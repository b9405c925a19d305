import { warmRelease } from "@/lib/airgap/warm";
import { db } from "@/lib/db";
import { isAppError } from "@/lib/errors";
import { CliError, parseArgs } from "../args";

/**
 * `airgap warm <app> <version> [--concurrency N]`: fetches every blob of the
 * release's private images into the proxy cache (what a bundle download
 * would fetch on a miss), so the first download streams from disk. Progress
 * goes to stderr; the summary is one JSON line. Exit 1 when the cache would
 * not keep some blobs (`notCached`: too large for it, its fills busy, the disk
 * below its floor).
 */
export async function airgapCommand(argv: string[]): Promise<Record<string, unknown> & { notCached: number }> {
  const [sub, appSlug, version, ...rest] = argv;
  if (sub !== "warm") throw new CliError(`Unknown airgap command "${sub ?? ""}": use "airgap warm <app> <version>".`);
  if (!appSlug || appSlug.startsWith("--") || !version || version.startsWith("--")) throw new CliError("Usage: airgap warm <app slug> <version> [--concurrency N]");
  const { options } = parseArgs(["airgap warm", ...rest]);
  const { concurrency, ...unknown } = options;
  if (Object.keys(unknown).length) throw new CliError("airgap warm takes only --concurrency N.");
  const n = concurrency === undefined ? 4 : Number(concurrency);
  if (!Number.isInteger(n) || n < 1 || n > 32) throw new CliError("--concurrency is a whole number from 1 to 32.");
  const app = await db.app.findUnique({ where: { slug: appSlug }, select: { teamId: true } });
  if (!app) throw new CliError(`No app with the slug "${appSlug}".`, 1);
  try {
    let last = 0;
    const report = await warmRelease(app.teamId, appSlug, version, {
      concurrency: n,
      onBlob: (done, total) => {
        if (Date.now() - last < 1000 && done < total) return;
        last = Date.now();
        process.stderr.write(`warming ${appSlug} ${version}: ${done}/${total} blobs\n`);
      },
    });
    return { app: appSlug, version, ...report };
  } catch (e) {
    if (isAppError(e)) throw new CliError(e.message, 1);
    throw e;
  }
}
