/**
 * Applies pending migrations to the database DATABASE_URL names: `prisma migrate
 * deploy` (prisma.config.ts picks prisma/migrations for SQLite and
 * prisma/postgres/migrations for PostgreSQL). Used by `npm run db:migrate`
 * (lib/ops/db-migrate.ts) and by the container image at start
 * (lib/ops/container.ts).
 *
 * Several replicas may start at once on one PostgreSQL database. Prisma
 * serialises them with an advisory lock, so each migration is applied once,
 * but a run that waits for the lock gives up after 10 s (P1002) even though
 * nothing is wrong: such a run is retried until `lockWaitMs` has passed. Any
 * other failure (a migration that does not apply) is final.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { dbProviderOf, PRISMA_LAYOUT } from "../db-provider";

const ROOT = path.resolve(__dirname, "../..");
const PRISMA = path.join(ROOT, "node_modules", ".bin", "prisma");
/** Enough of the output to find Prisma's error code in. */
const TAIL_BYTES = 64 * 1024;

export interface MigrateOptions {
  /** The database (callers pass env().databaseUrl). */
  databaseUrl: string;
  /** Variables for the Prisma CLI beyond this process's (tests). */
  extraEnv?: Record<string, string>;
  /** How long to keep retrying while another process holds the migration lock. */
  lockWaitMs?: number;
  /** Aborting stops the Prisma CLI (SIGTERM during a container's start). */
  signal?: AbortSignal;
  /** Where Prisma's output goes (default: this process's stdout and stderr). */
  output?: (chunk: string) => void;
}

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
    this.name = "MigrationError";
  }
}

/** Resolves once every migration is applied; rejects with a MigrationError otherwise. */
export async function applyMigrations(o: MigrateOptions): Promise<{ attempts: number }> {
  const provider = dbProviderOf(o.databaseUrl);
  if (provider === "sqlite") {
    const file = o.databaseUrl.replace(/^file:/, "");
    fs.mkdirSync(path.dirname(path.resolve(ROOT, file)), { recursive: true });
  }
  const deadline = Date.now() + (o.lockWaitMs ?? 5 * 60_000);
  for (let attempt = 1; ; attempt++) {
    (o.output ?? ((c) => process.stdout.write(c)))(`Applying ${PRISMA_LAYOUT[provider].migrations} (${provider})${attempt > 1 ? `, attempt ${attempt}` : ""}\n`);
    const run = await runPrisma(o);
    if (run.code === 0) return { attempts: attempt };
    if (o.signal?.aborted) throw new MigrationError("migrations interrupted", run.output);
    if (!waitedForLock(run.output) || Date.now() > deadline) {
      throw new MigrationError(`prisma migrate deploy failed (exit ${run.code ?? run.signal})`, run.output);
    }
    // Another process is applying migrations: try again once it is likely done.
    await new Promise((r) => setTimeout(r, Math.min(1000 * attempt, 5000)));
  }
}

/** Prisma's "Timed out trying to acquire a postgres advisory lock" (P1002). */
export function waitedForLock(output: string): boolean {
  return /P1002/.test(output) && /advisory lock/i.test(output);
}

function runPrisma(o: MigrateOptions): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PRISMA, ["migrate", "deploy"], {
      cwd: ROOT,
      env: { ...process.env, ...o.extraEnv, DATABASE_URL: o.databaseUrl },
      stdio: ["ignore", "pipe", "pipe"],
      signal: o.signal,
      killSignal: "SIGTERM",
    });
    let output = "";
    const take = (write: (c: string) => void) => (d: Buffer) => {
      const chunk = d.toString();
      output = (output + chunk).slice(-TAIL_BYTES);
      (o.output ?? write)(chunk);
    };
    child.stdout.on("data", take((c) => process.stdout.write(c)));
    child.stderr.on("data", take((c) => process.stderr.write(c)));
    child.on("error", (e) => {
      // An abort kills the child and reports AbortError here; "close" follows with the exit.
      if ((e as NodeJS.ErrnoException).name !== "AbortError") reject(e);
    });
    child.on("close", (code, signal) => resolve({ code, signal, output }));
  });
}
