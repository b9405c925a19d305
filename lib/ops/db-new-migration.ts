/**
 * Creates a new migration offline: `npm run db:migration:new -- <name>`.
 *
 * `prisma migrate dev` needs a shadow database, which the JS schema engine
 * cannot create for SQLite here (and the classic engine is a download). This
 * script plays the shadow database itself:
 *   1. apply every existing migration to a scratch SQLite file (`migrate deploy`);
 *   2. introspect it (`db pull`, through the driver adapter);
 *   3. diff the introspected datamodel against prisma/schema.prisma (pure, offline);
 *   4. write the SQL as prisma/migrations/<timestamp>_<name>/migration.sql;
 *   5. apply it to the scratch DB and diff again: the result must be empty.
 * It then writes the PostgreSQL migration with the same name under
 * prisma/postgres/migrations, also offline (no server needed):
 *   6. regenerate prisma/postgres/schema.prisma from prisma/schema.prisma;
 *   7. turn the datamodel introspected in step 2 (what the migrations reach
 *      before this change; both folders are kept in step) into its PostgreSQL
 *      form and diff it against prisma/postgres/schema.prisma.
 * `npm run test:integration:pg` applies the PostgreSQL folder to a real server.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { POSTGRES_SCHEMA, postgresSchemaFrom } from "./db-schema-postgres";

const root = path.resolve(__dirname, "../..");
const name = (process.argv[2] ?? "").trim();
if (!/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run db:migration:new -- <name>   (lowercase letters, digits and _)");
  process.exit(2);
}

const scratch = path.join(root, "data", `.shadow-${process.pid}`);
fs.mkdirSync(scratch, { recursive: true });
const shadowDb = path.join(scratch, "shadow.db");
const prismaBin = path.join(root, "node_modules", ".bin", "prisma");

function prisma(args: string[], extraEnv: Record<string, string> = {}): string {
  return execFileSync(prismaBin, args, {
    cwd: root,
    env: { ...process.env, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
  });
}

/** The datamodel the SQLite migrations reach, introspected from the shadow DB (step 2). */
let introspectedBefore: string | undefined;

function diffAgainstShadow(): string {
  const schemaCopy = path.join(scratch, "introspected.prisma");
  fs.copyFileSync(path.join(root, "prisma", "schema.prisma"), schemaCopy);
  const config = path.join(scratch, "prisma.config.ts");
  fs.writeFileSync(
    config,
    `import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: ${JSON.stringify(schemaCopy)},
  adapter: async () => new PrismaBetterSQLite3({ url: ${JSON.stringify(`file:${shadowDb}`)} }),
});
`,
  );
  const introspected = prisma(["db", "pull", "--config", config, "--print"]);
  const start = introspected.indexOf("generator ");
  fs.writeFileSync(schemaCopy, introspected.slice(start >= 0 ? start : 0));
  introspectedBefore ??= fs.readFileSync(schemaCopy, "utf8");
  return prisma([
    "migrate", "diff", "--from-schema-datamodel", schemaCopy,
    "--to-schema-datamodel", path.join("prisma", "schema.prisma"), "--script",
  ]).replace(/^.*Loaded Prisma config.*\n/m, "");
}

try {
  prisma(["migrate", "deploy"], { DATABASE_URL: `file:${shadowDb}` });
  const sql = diffAgainstShadow();
  if (!/\b(CREATE|ALTER|DROP|INSERT|PRAGMA)\b/i.test(sql)) {
    console.log("No schema changes: prisma/schema.prisma matches the migrations.");
    process.exit(0);
  }
  const stamp = new Date().toISOString().replace(/[-:TZ.]/g, "").slice(0, 14);
  const dir = path.join(root, "prisma", "migrations", `${stamp}_${name}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "migration.sql"), sql.trimStart());
  prisma(["migrate", "deploy"], { DATABASE_URL: `file:${shadowDb}` });
  const rest = diffAgainstShadow();
  if (/\b(CREATE|ALTER|DROP)\b/i.test(rest)) {
    console.error(`The new migration does not reach the schema; left over:\n${rest}`);
    process.exit(1);
  }
  console.log(`Created ${path.relative(root, dir)}/migration.sql`);

  // PostgreSQL: the same step, from the same starting model.
  fs.writeFileSync(POSTGRES_SCHEMA, postgresSchemaFrom(fs.readFileSync(path.join(root, "prisma", "schema.prisma"), "utf8")));
  const beforePg = path.join(scratch, "before-postgres.prisma");
  fs.writeFileSync(beforePg, postgresSchemaFrom(introspectedBefore ?? ""));
  const pgSql = prisma(["migrate", "diff", "--from-schema-datamodel", beforePg, "--to-schema-datamodel", POSTGRES_SCHEMA, "--script"])
    .replace(/^.*Loaded Prisma config.*\n/m, "");
  const pgDir = path.join(root, "prisma", "postgres", "migrations", path.basename(dir));
  fs.mkdirSync(pgDir, { recursive: true });
  fs.writeFileSync(path.join(pgDir, "migration.sql"), pgSql.trimStart());
  console.log(`Created ${path.relative(root, pgDir)}/migration.sql (check it with npm run test:integration:pg)`);
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
