import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { POSTGRES_SCHEMA, postgresSchemaFrom, SQLITE_SCHEMA } from "./db-schema-postgres";

describe("the PostgreSQL schema is generated from the SQLite one", () => {
  it("the committed prisma/postgres/schema.prisma matches (else: npm run db:schema:postgres)", () => {
    expect(fs.readFileSync(POSTGRES_SCHEMA, "utf8")).toBe(postgresSchemaFrom(fs.readFileSync(SQLITE_SCHEMA, "utf8")));
  });

  it("changes only the provider, the placeholder URL and the client's output", () => {
    const sqlite = fs.readFileSync(SQLITE_SCHEMA, "utf8");
    const pg = postgresSchemaFrom(sqlite);
    expect(pg).toMatch(/provider = "postgresql"/);
    expect(pg).toMatch(/output {7}= "\.\.\/\.\.\/generated\/prisma-pg"/);
    const models = (s: string) => s.slice(s.indexOf("\nmodel "));
    expect(models(pg)).toBe(models(sqlite));
  });

  it("refuses a schema it cannot translate", () => {
    expect(() => postgresSchemaFrom("model A { id Int @id }")).toThrow(/expected exactly one/);
    const sqlite = fs.readFileSync(SQLITE_SCHEMA, "utf8");
    expect(() => postgresSchemaFrom(sqlite.replace("model User {", "model User {\n  x String @db.Text"))).toThrow(/native types/);
  });
});
