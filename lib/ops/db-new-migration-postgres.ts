/**
 * Writes the PostgreSQL migration that brings prisma/postgres/migrations up to
 * prisma/postgres/schema.prisma, checked against a real server. Run inside a
 * throwaway cluster (it needs DATABASE_URL=postgresql://…):
 *
 *   npm run db:migration:new:postgres -- <name>   # e.g. after merging a branch that
 *                                                 # added only a SQLite migration
 *   npm run db:migration:check:postgres           # fails if the folder lags the schema
 *
 *   1. regenerate prisma/postgres/schema.prisma from prisma/schema.prisma;
 *   2. apply prisma/postgres/migrations to the empty database (`migrate deploy`);
 *   3. introspect it (`db pull`, through the adapter of prisma.config.ts);
 *   4. diff the introspected datamodel against prisma/postgres/schema.prisma;
 *   5. write prisma/postgres/migrations/<timestamp>_<name>/migration.sql, apply it,
 *      and diff again: the result must be empty.
 * `npm run db:migration:new` does this offline for both providers at once; this
 * is the way to catch up or to verify the PostgreSQL folder alone.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isPostgresUrl } from "../db-provider";
import { env } from "../env";
import { POSTGRES_SCHEMA, postgresSchemaFrom, SQLITE_SCHEMA } from "./db-schema-postgres";

const root = path.resolve(__dirname, "../..");
const check = process.argv.includes("--check");
const name = (process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "").trim();
if (!isPostgresUrl(env().databaseUrl) || (!check && !/^[a-z0-9_]+$/.test(name))) {
  console.error("usage: npm run db:migration:new:postgres -- <name>   (lowercase letters, digits and _), or db:migration:check:postgres");
  process.exit(2);
}

const prismaBin = path.join(root, "node_modules", ".bin", "prisma");
const prisma = (args: string[]) =>
  execFileSync(prismaBin, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" }).replace(/^.*Loaded Prisma config.*\n/m, "");

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-pg-migration-"));
function pendingSql(): string {
  const introspected = prisma(["db", "pull", "--print"]);
  const file = path.join(scratch, "introspected.prisma");
  fs.writeFileSync(file, introspected.slice(Math.max(0, introspected.indexOf("generator "))));
  return prisma(["migrate", "diff", "--from-schema-datamodel", file, "--to-schema-datamodel", POSTGRES_SCHEMA, "--script"]);
}
const changes = (sql: string) => /\b(CREATE|ALTER|DROP)\b/i.test(sql);

try {
  if (!check) fs.writeFileSync(POSTGRES_SCHEMA, postgresSchemaFrom(fs.readFileSync(SQLITE_SCHEMA, "utf8")));
  prisma(["migrate", "deploy"]);
  const sql = pendingSql();
  if (!changes(sql)) {
    console.log("prisma/postgres/migrations reaches prisma/postgres/schema.prisma: nothing to write.");
    process.exit(0);
  }
  if (check) {
    console.error(`prisma/postgres/migrations does not reach prisma/postgres/schema.prisma; missing:\n${sql}\nRun: npm run db:migration:new:postgres -- <name>`);
    process.exit(1);
  }
  const stamp = new Date().toISOString().replace(/[-:TZ.]/g, "").slice(0, 14);
  const dir = path.join(root, "prisma", "postgres", "migrations", `${stamp}_${name}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "migration.sql"), sql.trimStart());
  prisma(["migrate", "deploy"]);
  const rest = pendingSql();
  if (changes(rest)) {
    console.error(`The new migration does not reach the schema; left over:\n${rest}`);
    process.exit(1);
  }
  console.log(`Created ${path.relative(root, dir)}/migration.sql`);
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
