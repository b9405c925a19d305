import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { env } from "./lib/env";

// Prisma 7's CLI downloads a schema engine; 6.19 with engine "js" uses the WASM
// schema engine through this driver adapter instead, which works offline.
// The database path comes from DATABASE_URL through lib/env.ts.
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations") },
  adapter: async () => new PrismaBetterSQLite3({ url: env().databaseUrl }),
});
