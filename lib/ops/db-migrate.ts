/**
 * Applies pending migrations to the database named by DATABASE_URL (default:
 * data/gantry.db): `npm run db:migrate`. Safe to run on every start.
 * A file: URL applies prisma/migrations (SQLite); a postgresql:// URL applies
 * prisma/postgres/migrations (prisma.config.ts picks the schema and folder).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { env } from "../env";
import { dbProviderOf, PRISMA_LAYOUT } from "../db-provider";

const root = path.resolve(__dirname, "../..");
const url = env().databaseUrl;
const provider = dbProviderOf(url);
if (provider === "sqlite") {
  const file = url.replace(/^file:/, "");
  fs.mkdirSync(path.dirname(path.resolve(root, file)), { recursive: true });
}
console.log(`Applying ${PRISMA_LAYOUT[provider].migrations} (${provider})`);
execFileSync(path.join(root, "node_modules", ".bin", "prisma"), ["migrate", "deploy"], {
  cwd: root,
  stdio: ["ignore", "inherit", "inherit"],
});
