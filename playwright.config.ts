import path from "node:path";
import { defineConfig, devices } from "@playwright/test";
import { isPostgresUrl, type DbProvider } from "./lib/db-provider";

/**
 * End-to-end tests drive Debian's Chromium (never `playwright install`) against
 * the production build, served by Gantry's own server on a throwaway database.
 * `npm test` builds first; `npm run test:e2e` expects a build in .next/.
 */
// GANTRY_E2E_PORT lets several checkouts run the suite side by side.
const PORT = Number(process.env.GANTRY_E2E_PORT ?? 3100);
/** host:port of the e2e server: the proxy domain in generated files. */
export const e2eHost = `127.0.0.1:${PORT}`;
/** Gantry's own registry in the e2e run: by host name, and on its own port. */
export const e2eRegistryHost = `localhost:${PORT}`;
export const e2eRegistryPortHost = `127.0.0.1:${PORT + 1}`;
/**
 * The database: a SQLite file by default; PostgreSQL when the suite runs inside
 * lib/ops/postgres-cluster.sh (`npm test` runs it both ways), which sets
 * GANTRY_TEST_DATABASE_URL to a throwaway cluster.
 */
const pgUrl = process.env.GANTRY_TEST_DATABASE_URL;
export const e2eProvider: DbProvider = pgUrl && isPostgresUrl(pgUrl) ? "postgresql" : "sqlite";
const suffix = e2eProvider === "postgresql" ? "-postgres" : "";
/**
 * The test DNS server custom-domain verification asks (GANTRY_DNS_SERVERS):
 * started by e2e/support/dns-global-setup.ts on a port derived from PORT, its
 * records read from a JSON file the specs write (e2e/domains.spec.ts).
 */
export const e2eDnsPort = PORT + 53;
export const e2eDnsRecords = path.join(__dirname, "test-results", `e2e-dns${suffix}.json`);
const dataDir = path.join(__dirname, "test-results", `e2e-data${suffix}`);
export const e2eEnv = {
  GANTRY_DATA_DIR: dataDir,
  DATABASE_URL: e2eProvider === "postgresql" ? pgUrl! : `file:${path.join(dataDir, "gantry.db")}`,
  AUTH_SECRET: "e2e-tests-only-secret-0123456789abcdefghij",
  PORT: String(PORT),
  // Gantry's own registry: by host name on the main port (localhost, while the proxy is
  // 127.0.0.1), and on a port of its own; its storage is a distribution child process.
  GANTRY_REGISTRY_URL: `http://localhost:${PORT}`,
  GANTRY_REGISTRY_PORT: String(PORT + 1),
  HOST: "127.0.0.1",
  GANTRY_LOG_LEVEL: "info",
  // The test registries listen on loopback.
  GANTRY_ALLOWED_PRIVATE_HOSTS: "127.0.0.1/32",
  // Every spec signs up from 127.0.0.1; the limits themselves are tested in lib/rate-limit.
  GANTRY_SIGNUP_RATE_PER_IP: "1000",
  GANTRY_PREVIEW_RATE_PER_IP: "1000",
  GANTRY_DNS_SERVERS: `127.0.0.1:${PORT + 53}`,
  // The key-encryption key from the environment, not a file in the data directory:
  // e2e/replicas.spec.ts runs a second server with its own data directory, and both
  // must open the registry credentials either one stored. Tests only.
  GANTRY_KEKS: `e2e:${Buffer.from("gantry-e2e-tests-only-kek-000000").toString("base64")}`,
};
/** Everything the e2e server prints, for the tests that check logs for leaks. */
export const e2eServerLog = path.join(__dirname, "test-results", `e2e-server${suffix}.log`);

export default defineConfig({
  testDir: "e2e",
  globalSetup: "./e2e/support/dns-global-setup.ts",
  // Two replicas sharing one database only make sense on PostgreSQL (a SQLite file is one machine's).
  testIgnore: e2eProvider === "postgresql" ? [] : ["**/replicas.spec.ts"],
  outputDir: `test-results/playwright${suffix}`,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  // A bound for hangs, not a speed check (benchmarks measure speed): the longest flows
  // (several signed-in contexts, CLI seeding) took 49–56 s of a 60 s budget with two
  // workers on a loaded machine, and one timed out in CI on 1990e08.
  timeout: 120_000,
  expect: { timeout: 10_000 },
  reporter: [["list"], ["json", { outputFile: process.env.PLAYWRIGHT_JSON_OUTPUT_NAME ?? "test-results/e2e.json" }]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  projects: [{ name: "chromium", use: { ...devices["Desktop Chrome"], channel: undefined } }],
  webServer: {
    command: `rm -rf ${JSON.stringify(dataDir)} && mkdir -p ${JSON.stringify(path.dirname(e2eServerLog))} && npx tsx lib/ops/db-migrate.ts && npm run -s serve 2>&1 | tee ${JSON.stringify(e2eServerLog)}`,
    url: `http://127.0.0.1:${PORT}/sign-in`,
    env: e2eEnv,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
  },
});
