import fs from "node:fs";
import type http from "node:http";
import path from "node:path";
import { kekProvider } from "../crypto/provider";
import { db } from "../db";
import { dbProviderOf, PRISMA_LAYOUT } from "../db-provider";
import { diskState } from "../disk/free-space";
import { env } from "../env";
import { log } from "../log";

/**
 * What a load balancer asks (served by lib/server before Next, unauthenticated):
 *
 * - `GET /healthz`: the process is up and its event loop answers. Always 200.
 * - `GET /readyz`: this replica should get traffic. 200 when every check
 *   passes, else 503 with the failing checks named:
 *   - `db`: the database answers;
 *   - `migrations`: every migration in the app's migrations folder is applied
 *     (read from Prisma's `_prisma_migrations` table with plain SQL that
 *     means the same on SQLite and PostgreSQL). A database ahead of this code
 *     (a newer replica migrated it during a rolling upgrade) is still ready;
 *   - `kek`: a key-encryption key is loaded and the current one is present;
 *   - `disk`: the data volume (and the cache's, when it is elsewhere) has more
 *     free space than GANTRY_MIN_FREE_DISK (lib/disk/free-space.ts);
 *   - `shutdown`: the process has been asked to stop (SIGTERM) and is draining.
 *
 * The answers carry no secrets: check names, ok/failed, the names of pending
 * migrations. Why a check failed in detail goes to the log.
 */
export type CheckName = "db" | "migrations" | "kek" | "disk" | "shutdown";
export interface ReadyReport {
  status: "ready" | "unready";
  checks: Partial<Record<CheckName, "ok" | "failed">>;
  failing: CheckName[];
  pendingMigrations?: string[];
}

export interface HealthOptions {
  /** The folder of migrations this build expects applied (default: the database provider's, under the working directory). */
  migrationsDir?: string;
  /** How long the database checks may take before they count as failed (ms). */
  timeoutMs?: number;
}

/** Migration folder names (each holds a migration.sql), as Prisma records them. */
export function expectedMigrations(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, "migration.sql")))
    .map((e) => e.name)
    .sort();
}

class TimedOut extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimedOut(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export class Health {
  private draining = false;
  private expected: string[] | undefined;
  private readonly migrationsDir: string;
  private readonly timeoutMs: number;

  constructor(opts: HealthOptions = {}) {
    this.migrationsDir = opts.migrationsDir ?? path.join(process.cwd(), PRISMA_LAYOUT[dbProviderOf(env().databaseUrl)].migrations);
    this.timeoutMs = opts.timeoutMs ?? 3_000;
  }

  /** From now on /readyz answers 503 ("shutdown"). */
  markDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  async ready(): Promise<ReadyReport> {
    const checks: ReadyReport["checks"] = {};
    let pendingMigrations: string[] | undefined;
    if (this.draining) checks.shutdown = "failed";

    try {
      const k = kekProvider();
      checks.kek = k.has(k.currentKekId) ? "ok" : "failed";
    } catch (e) {
      log.error("readyz: no usable key-encryption key", { error: e });
      checks.kek = "failed";
    }

    try {
      const rows = await withTimeout(
        db.$queryRaw<{ migration_name: string }[]>`SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
        this.timeoutMs,
        "the database",
      );
      checks.db = "ok";
      this.expected ??= expectedMigrations(this.migrationsDir);
      const applied = new Set(rows.map((r) => r.migration_name));
      const pending = this.expected.filter((m) => !applied.has(m));
      checks.migrations = pending.length ? "failed" : "ok";
      if (pending.length) pendingMigrations = pending;
    } catch (e) {
      // Either the database does not answer, or it does and the migrations cannot be
      // read (no _prisma_migrations table: never migrated). Which one is asked, not
      // guessed from the message: "does not exist" is also how PostgreSQL says the
      // database or the role is missing, and how SQLite says its directory is.
      const answers =
        !(e instanceof TimedOut) &&
        (await withTimeout(db.$queryRaw`SELECT 1`, this.timeoutMs, "the database").then(
          () => true,
          () => false,
        ));
      if (answers) {
        log.warn("readyz: the applied migrations could not be read", { error: e });
        checks.db = "ok";
        checks.migrations = "failed";
      } else {
        log.error("readyz: the database check failed", { error: e });
        checks.db = "failed";
        checks.migrations = "failed";
      }
    }

    const config = env();
    const volumes = await Promise.all([...new Set([config.dataDir, config.cache.dir])].map((dir) => diskState(dir)));
    checks.disk = volumes.some((v) => v?.belowFloor) ? "failed" : "ok";

    const failing = (Object.entries(checks) as [CheckName, string][]).filter(([, v]) => v === "failed").map(([k]) => k);
    return { status: failing.length ? "unready" : "ready", checks, failing, ...(pendingMigrations ? { pendingMigrations } : {}) };
  }

  /**
   * Answers /healthz and /readyz; returns false for any other path (the caller
   * serves it). Only GET and HEAD; no caching.
   */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const pathname = (req.url ?? "/").split("?")[0];
    if (pathname !== "/healthz" && pathname !== "/readyz") return false;
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
        "cache-control": "no-store",
        ...(this.draining ? { connection: "close" } : {}),
      });
      res.end(req.method === "HEAD" ? undefined : text);
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      send(405, { error: "method not allowed" });
      return true;
    }
    if (pathname === "/healthz") {
      send(200, { status: "ok", uptimeSeconds: Math.round(process.uptime()) });
      return true;
    }
    this.ready().then(
      (r) => send(r.failing.length ? 503 : 200, r),
      (e: unknown) => {
        log.error("readyz failed", { error: e });
        send(503, { status: "unready", checks: {}, failing: ["db"] });
      },
    );
    return true;
  }
}
