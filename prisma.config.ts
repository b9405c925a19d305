import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { env } from "./lib/env";
import { dbProviderOf, PRISMA_LAYOUT } from "./lib/db-provider";
import { PrismaPgForMigrate } from "./lib/ops/prisma-pg-migrate";

// Prisma 7's CLI downloads a schema engine; 6.19 with engine "js" uses the WASM
// schema engine through a driver adapter instead, which works offline.
// DATABASE_URL (through lib/env.ts) picks the provider: a file: URL is SQLite
// (prisma/schema.prisma, prisma/migrations); postgresql:// is PostgreSQL
// (prisma/postgres/schema.prisma, generated from the SQLite one, and prisma/postgres/migrations).
const url = env().databaseUrl;
const provider = dbProviderOf(url);

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: PRISMA_LAYOUT[provider].schema,
  migrations: { path: PRISMA_LAYOUT[provider].migrations },
  adapter: async () =>
    provider === "postgresql"
      ? new PrismaPgForMigrate({ connectionString: url, options: "-c TimeZone=UTC" })
      : new PrismaBetterSQLite3({ url }),
});
