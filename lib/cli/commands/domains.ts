import { allDomains } from "@/lib/domains/domains";
import { CliError } from "../args";

/**
 * `domains [--verified]`: every team's custom domains, one JSON object a line
 * ({name, service, status, team, verifiedAt, checkedAt}); with --verified only
 * those served now, e.g. to list the names a certificate must cover when TLS
 * in front of Gantry does not issue them on demand.
 */
export async function domainsCommand(options: Record<string, string | true>): Promise<string[]> {
  const { verified, ...unknown } = options;
  if (Object.keys(unknown).length || (verified !== undefined && verified !== true)) throw new CliError("domains takes only --verified.");
  return (await allDomains({ verifiedOnly: verified === true })).map((d) => JSON.stringify(d));
}
