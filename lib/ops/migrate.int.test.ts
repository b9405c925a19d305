import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { isPostgresUrl, PRISMA_LAYOUT } from "@/lib/db-provider";
import { env } from "@/lib/env";
import { applyMigrations, MigrationError } from "./migrate";

/**
 * Migrations at start (the container image's `start`, `npm run db:migrate`)
 * on the suite's database kind: replicas starting together on one database,
 * and a failure that is not worth retrying.
 */
const suiteUrl = env().databaseUrl;
const postgres = isPostgresUrl(suiteUrl);
/** Prisma's migration lock (the schema engine's advisory lock id). */
const PRISMA_LOCK_ID = 72707369;
/** psql of the throwaway cluster (lib/ops/postgres-cluster.sh sets GANTRY_TEST_PG_BIN). */
const psql = (url: string, sql: string) =>
  promisify(execFile)(path.join(process.env.GANTRY_TEST_PG_BIN ?? "/usr/bin", "psql"), [url, "-v", "ON_ERROR_STOP=1", "-At", "-F", "|", "-c", sql]).then((r) => r.stdout);
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** An empty database of the suite's kind. */
async function freshDatabase(): Promise<string> {
  if (!postgres) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-migrate-"));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    return `file:${path.join(dir, "gantry.db")}`;
  }
  const name = `gantry_migrate_${crypto.randomBytes(4).toString("hex")}`;
  await psql(suiteUrl, `CREATE DATABASE ${name}`);
  cleanups.push(async () => void (await psql(suiteUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
  const url = new URL(suiteUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function appliedMigrations(url: string): Promise<{ name: string; finished: boolean }[]> {
  if (postgres) {
    const out = await psql(url, "SELECT migration_name, finished_at IS NOT NULL FROM _prisma_migrations WHERE rolled_back_at IS NULL ORDER BY migration_name");
    return out
      .trim()
      .split("\n")
      .map((line) => line.split("|"))
      .map(([name, finished]) => ({ name: name!, finished: finished === "t" }));
  }
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(url.replace(/^file:/, ""), { readonly: true });
  const rows = db.prepare("SELECT migration_name AS name, finished_at IS NOT NULL AS finished FROM _prisma_migrations WHERE rolled_back_at IS NULL ORDER BY migration_name").all() as { name: string; finished: number }[];
  db.close();
  return rows.map((r) => ({ name: r.name, finished: r.finished === 1 }));
}

async function until(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 200));
  }
}

const migrationsOfThisKind = fs
  .readdirSync(path.join(process.cwd(), PRISMA_LAYOUT[postgres ? "postgresql" : "sqlite"].migrations), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe(`applyMigrations (${postgres ? "PostgreSQL" : "SQLite"})`, () => {
  it("applies every migration once when three replicas start together, and each of them goes on", async () => {
    const url = await freshDatabase();
    const output: string[] = [];
    const runs = await Promise.allSettled([1, 2, 3].map(() => applyMigrations({ databaseUrl: url, output: (c) => output.push(c) })));
    expect(runs.map((r) => r.status), output.join("")).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
    expect(await appliedMigrations(url)).toEqual(migrationsOfThisKind.map((name) => ({ name, finished: true })));
  }, 180_000);

  // Only PostgreSQL has a migration lock to wait for (SQLite: one replica; Prisma's runs serialise on the file, above).
  if (postgres) {
    it("waits out another replica holding the migration lock longer than Prisma waits (PostgreSQL's advisory lock)", async () => {
      const url = await freshDatabase();
      // Another replica's long migration holds the lock until Prisma has given up waiting for it (10 s, P1002) once.
      const lockHeld = `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = ${PRISMA_LOCK_ID} AND granted`;
      const holder = psql(url, `SELECT pg_advisory_lock(${PRISMA_LOCK_ID}); SELECT pg_sleep(300);`).catch(() => "terminated");
      await until(async () => (await psql(url, lockHeld)).trim() === "1");
      const output: string[] = [];
      const run = applyMigrations({ databaseUrl: url, output: (c) => output.push(c), lockWaitMs: 120_000 });
      await until(async () => /P1002/.test(output.join("")));
      await psql(url, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = ${PRISMA_LOCK_ID} AND granted`);
      expect(await holder).toBe("terminated");
      const { attempts } = await run;
      expect(output.join("")).toMatch(/P1002[\s\S]*advisory lock/);
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(await appliedMigrations(url)).toEqual(migrationsOfThisKind.map((name) => ({ name, finished: true })));
    }, 180_000);
  }

  it("fails at once, without retrying, when a migration cannot be applied", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-migrate-bad-"));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, "not-a-database.db");
    fs.writeFileSync(file, "this is not an SQLite file, ".repeat(200));
    const output: string[] = [];
    const error = await applyMigrations({ databaseUrl: `file:${file}`, output: (c) => output.push(c) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(output.filter((c) => c.startsWith("Applying ")).length).toBe(1);
  }, 120_000);
});
