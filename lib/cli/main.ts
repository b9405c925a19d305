/**
 * Gantry's operator CLI: `npm run gantry -- <command> [--options]`.
 * Commands print a one-line JSON summary on stdout; errors go to stderr with a
 * non-zero exit code (2 for usage errors, 1 for refusals).
 */
import { CliError, parseArgs } from "./args";
import { airgapCommand } from "./commands/airgap";
import { bootstrap } from "./commands/bootstrap";
import { cacheCommand } from "./commands/cache";
import { createToken } from "./commands/create-token";
import { domainsCommand } from "./commands/domains";
import { purgeCommand } from "./commands/purge";
import { registryCommand } from "./commands/registry";
import { rotateKekCommand } from "./commands/rotate-kek";
import { verifyLicense } from "./commands/verify-license";

const USAGE = `Usage: npm run gantry -- <command> [options]

Commands:
  bootstrap --email E --password P --team "T"   create (or reuse) a user and a team they own
  create-token --email E --team "T" [--name N] [--role admin|member] [--expires-in-days N]
                                                create a team API token (member: read-only); printed on the last line
  rotate-kek                                    re-wrap every data key under the current KEK (safe to re-run)
  verify-license FILE --key PUBLIC_KEY.pem      check a license file's signature and expiry offline
  cache stats                                   the proxy cache's totals across all teams, and its size on disk
  cache purge [--app SLUG]                      empty the proxy cache, or one app's share of it
  registry gc [--dry-run] [--config FILE]       garbage-collect the registry's storage (read-only while it runs)
    [--delete-untagged [--min-age MINUTES]]     first delete manifests no tag, index, referrer or release keeps
                                                (pushed over MINUTES ago, default 60)
  airgap warm APP VERSION [--concurrency N]     fetch every blob of a release's private images into the proxy cache,
                                                so its first air-gap bundle download streams from disk
  domains [--verified]                          every team's custom domains, one JSON line each (--verified: those served)
  purge [--pull-log-days N]                     delete pull events older than GANTRY_PULL_LOG_DAYS (90), ended
                                                rate-limit windows, long-expired invitations and registry uploads
                                                without data for an hour (servers do it hourly)
`;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "verify-license") {
    const [, file, ...rest] = argv;
    const report = verifyLicense(file?.startsWith("--") ? undefined : file, parseArgs(["verify-license", ...rest]).options);
    console.log(JSON.stringify(report));
    return report.valid && report.state === "active" ? 0 : 1;
  }
  if (argv[0] === "registry") {
    console.log(JSON.stringify(await registryCommand(argv.slice(1))));
    return 0;
  }
  if (argv[0] === "airgap") {
    const report = await airgapCommand(argv.slice(1));
    console.log(JSON.stringify(report));
    // Blobs the cache would not keep: the first download will fetch them again.
    return report.notCached ? 1 : 0;
  }
  if (argv[0] === "cache") {
    console.log(JSON.stringify(await cacheCommand(argv.slice(1))));
    return 0;
  }
  const { command, options } = parseArgs(argv);
  switch (command) {
    case "bootstrap":
      console.log(JSON.stringify(await bootstrap(options)));
      return 0;
    case "create-token": {
      const { summary, token } = await createToken(options);
      console.log(JSON.stringify(summary));
      console.log(token);
      return 0;
    }
    case "domains":
      for (const line of await domainsCommand(options)) console.log(line);
      return 0;
    case "purge":
      console.log(JSON.stringify(await purgeCommand(options)));
      return 0;
    case "rotate-kek": {
      const report = await rotateKekCommand();
      console.log(JSON.stringify(report));
      return report.ok ? 0 : 1;
    }
    case undefined:
    case "help":
    case "--help":
      process.stdout.write(USAGE);
      return command ? 0 : 2;
    default:
      throw new CliError(`Unknown command "${command}".\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof CliError) {
      console.error(`gantry: ${e.message}`);
      process.exit(e.exitCode);
    }
    const message = e instanceof Error ? e.message : String(e);
    console.error(`gantry: ${message}`);
    process.exit(1);
  },
);
