/**
 * The container image's entry point (Dockerfile ENTRYPOINT). Node runs it
 * directly as the container's first process, so SIGTERM from `docker stop` or
 * the kubelet reaches Gantry's own handler (lib/server/signals.ts) with no
 * shell or npm in between, and the server runs in this very process.
 *
 *   start (default)   apply pending migrations, then serve
 *   serve             serve only (migrations applied another way)
 *   migrate           apply pending migrations and exit
 *   gantry <command>  the operator CLI (also `gantry` on PATH in the image)
 *
 * Replicas starting together on one PostgreSQL database each run `start`:
 * Prisma's advisory lock applies every migration once, and a replica that
 * waited for it retries (lib/ops/migrate.ts).
 */
import path from "node:path";
import { env } from "../env";
import { applyMigrations, MigrationError } from "./migrate";

const USAGE = `Usage: <image> [start | serve | migrate | gantry <command> …]
  start    apply pending database migrations, then serve (the default)
  serve    serve without applying migrations
  migrate  apply pending database migrations and exit
  gantry   the operator CLI: gantry help
`;

async function migrate(): Promise<boolean> {
  const abort = new AbortController();
  // No handler of Gantry's is installed yet, and the first process of a
  // container ignores signals it does not handle: stop Prisma and leave.
  const stop = (signal: NodeJS.Signals) => {
    console.log(`${signal}: stopping the migration`);
    abort.abort();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  try {
    await applyMigrations({ databaseUrl: env().databaseUrl, signal: abort.signal });
    return true;
  } catch (e) {
    console.error(e instanceof MigrationError ? e.message : e);
    return false;
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
  }
}

/**
 * The server installs its SIGTERM handler once it listens; before that (Next
 * preparing, the registry's engine starting) a container's first process
 * would ignore the signal and wait for SIGKILL. Nothing is in flight yet: exit.
 */
async function serve(): Promise<void> {
  const early = (signal: NodeJS.Signals) => {
    if (process.listenerCount(signal) > 1) return; // Gantry's own handler drains.
    console.log(`${signal} before Gantry listened: exiting`);
    process.exit(0);
  };
  process.on("SIGTERM", early);
  process.on("SIGINT", early);
  await import("../server/main");
}

async function main(argv: string[]): Promise<void> {
  const [command = "start", ...rest] = argv;
  switch (command) {
    case "start":
      if (!(await migrate())) process.exit(1);
      await serve();
      return;
    case "serve":
      await serve();
      return;
    case "migrate":
      process.exit((await migrate()) ? 0 : 1);
      return;
    case "gantry":
      // lib/cli/main.ts reads its arguments from process.argv.
      process.argv = [process.argv[0]!, path.join(__dirname, "../cli/main.ts"), ...rest];
      await import("../cli/main");
      return;
    case "help":
    case "--help":
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`Unknown command "${command}".\n${USAGE}`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
