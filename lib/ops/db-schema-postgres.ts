/**
 * prisma/schema.prisma (SQLite) is the one source of truth for the model.
 * This derives prisma/postgres/schema.prisma from it: the same models, with
 * provider "postgresql" (Prisma requires a literal provider) and its own
 * generated client (generated/prisma-pg).
 *
 *   npm run db:schema:postgres          rewrite prisma/postgres/schema.prisma
 *   npm run db:schema:check             fail (exit 1) if the committed file differs
 */
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "../..");
export const SQLITE_SCHEMA = path.join(root, "prisma", "schema.prisma");
export const POSTGRES_SCHEMA = path.join(root, "prisma", "postgres", "schema.prisma");

const HEADER = `// GENERATED from prisma/schema.prisma by \`npm run db:schema:postgres\`: do not edit.
// \`npm run db:schema:check\` (part of \`npm test\`) fails when this file drifts.
`;

function replaceOnce(text: string, pattern: RegExp, replacement: string, what: string): string {
  const matches = text.match(new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`));
  if (matches?.length !== 1) throw new Error(`prisma/schema.prisma: expected exactly one ${what}, found ${matches?.length ?? 0}`);
  return text.replace(pattern, replacement);
}

/** The PostgreSQL schema text for a SQLite schema text (pure). */
export function postgresSchemaFrom(sqlite: string): string {
  let text = sqlite;
  text = replaceOnce(text, /^(\s*output\s*=\s*)"\.\.\/generated\/prisma"/m, '$1"../../generated/prisma-pg"', 'generator output "../generated/prisma"');
  text = replaceOnce(text, /^(\s*provider\s*=\s*)"sqlite"/m, '$1"postgresql"', 'provider "sqlite"');
  text = replaceOnce(text, /^(\s*url\s*=\s*)"file:[^"]*"/m, '$1"postgresql://localhost/unused-see-lib-env"', 'datasource url "file:…"');
  if (/@db\./.test(sqlite)) {
    throw new Error("prisma/schema.prisma uses native types (@db.*): map them for PostgreSQL in lib/ops/db-schema-postgres.ts");
  }
  return HEADER + text;
}

function main(): void {
  const want = postgresSchemaFrom(fs.readFileSync(SQLITE_SCHEMA, "utf8"));
  const rel = path.relative(root, POSTGRES_SCHEMA);
  if (process.argv.includes("--check")) {
    const have = fs.existsSync(POSTGRES_SCHEMA) ? fs.readFileSync(POSTGRES_SCHEMA, "utf8") : "";
    if (have !== want) {
      console.error(`${rel} is out of date with prisma/schema.prisma. Run: npm run db:schema:postgres (and npm run db:migration:new for a model change)`);
      process.exit(1);
    }
    console.log(`${rel} matches prisma/schema.prisma.`);
    return;
  }
  fs.mkdirSync(path.dirname(POSTGRES_SCHEMA), { recursive: true });
  fs.writeFileSync(POSTGRES_SCHEMA, want);
  console.log(`Wrote ${rel}`);
}

if (require.main === module) main();
