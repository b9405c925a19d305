import { isAppError } from "@/lib/errors";
import { purgeAll, purgeApp } from "@/lib/cache/purge";
import { operatorCacheStats } from "@/lib/cache/stats";
import { CliError, parseArgs } from "../args";

/**
 * `cache stats`: the cache's totals across every team, and what is on disk.
 * `cache purge [--app SLUG]`: empties the cache, or one app's share of it.
 * Both print one JSON line.
 */
export async function cacheCommand(argv: string[]): Promise<Record<string, unknown>> {
  const [sub, ...rest] = argv;
  const { options } = parseArgs([`cache ${sub ?? ""}`, ...rest]);
  switch (sub) {
    case "stats":
      if (Object.keys(options).length) throw new CliError(`cache stats takes no options.`);
      return operatorCacheStats();
    case "purge": {
      const { app, ...unknown } = options;
      if (Object.keys(unknown).length) throw new CliError(`cache purge takes only --app SLUG.`);
      if (app === true || app === "") throw new CliError("--app needs an app's slug.");
      if (app === undefined) return { ...(await purgeAll()) };
      try {
        return { ...(await purgeApp(app)) };
      } catch (e) {
        if (isAppError(e) && e.code === "NOT_FOUND") throw new CliError(`No app with the slug "${app}".`, 1);
        throw e;
      }
    }
    default:
      throw new CliError(`Unknown cache command "${sub ?? ""}": use "cache stats" or "cache purge [--app SLUG]".`);
  }
}
