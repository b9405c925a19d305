import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";

const alias = {
  "@": path.resolve(import.meta.dirname),
  // `server-only` throws outside React Server Components; tests run in plain Node.
  "server-only": path.resolve(import.meta.dirname, "lib/testing/empty-module.ts"),
};

// Integration tests run against a real SQLite file, migrated by the global setup;
// or, with GANTRY_TEST_DATABASE_URL=postgresql://… (`npm run test:integration:pg`,
// which starts a throwaway cluster: lib/ops/postgres-cluster.sh), a PostgreSQL database.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-it-"));
// eslint-disable-next-line no-restricted-properties -- test configuration, read before lib/env.ts exists
const testDatabaseUrl = process.env.GANTRY_TEST_DATABASE_URL;
const integrationEnv = {
  GANTRY_DATA_DIR: scratch,
  DATABASE_URL: testDatabaseUrl || `file:${path.join(scratch, "gantry.db")}`,
  AUTH_SECRET: "integration-tests-secret-0123456789abcdef",
  GANTRY_LOG_LEVEL: "error",
  // The real test registries listen on loopback.
  GANTRY_ALLOWED_PRIVATE_HOSTS: "127.0.0.1/32",
  GANTRY_PROXY_URL: "https://gantry.test:8443",
  GANTRY_REGISTRY_URL: "https://registry.vendor.test",
  // lib/proxy/hot-path.int.test.ts counts the queries of a proxied request.
  GANTRY_COUNT_DB_QUERIES: "1",
};

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["lib/**/*.test.ts", "components/**/*.test.ts", "app/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "**/*.deploy.test.ts", "node_modules/**"],
          environment: "node",
        },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          include: ["lib/**/*.int.test.ts"],
          environment: "node",
          env: integrationEnv,
          globalSetup: ["lib/testing/integration-global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        // The deployment artifacts, once per `npm test` (not per database): the Helm
        // chart with the real Helm client, and the container image built and run
        // in a private Docker engine (slow: it builds the image from an offline base).
        resolve: { alias },
        test: {
          name: "deploy",
          include: ["lib/**/*.deploy.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 60 * 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
