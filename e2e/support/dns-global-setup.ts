import fs from "node:fs";
import path from "node:path";
import { startTestDnsServer } from "../../lib/testing/dns-server";
import { e2eDnsPort, e2eDnsRecords } from "../../playwright.config";

/**
 * A real DNS server (dns2 on loopback) for the e2e run: the server's
 * GANTRY_DNS_SERVERS points at it. Records live in a JSON file read on every
 * query, so specs (in their worker processes) publish TXT records by writing it.
 */
export default async function setup() {
  fs.mkdirSync(path.dirname(e2eDnsRecords), { recursive: true });
  fs.writeFileSync(e2eDnsRecords, "{}\n");
  const dns = await startTestDnsServer({ port: e2eDnsPort, recordsFile: e2eDnsRecords });
  return async () => {
    await dns.close();
  };
}
