/**
 * `npm run bench:db` (issue 12): SQLite and PostgreSQL side by side in one run.
 * package.json runs this under lib/ops/postgres-cluster.sh, which starts a
 * throwaway PostgreSQL cluster and sets DATABASE_URL to it. lib/db picks its
 * client from DATABASE_URL at import, so this parent runs lib/ops/bench/db-run.ts
 * twice as a child process (one at a time, never concurrently: this machine's
 * cores are the thing measured), first with a scratch SQLite file, then with
 * the cluster's URL, and prints one table: metric | SQLite | PostgreSQL |
 * PG/SQLite. Each child migrates its database, seeds it and measures (see
 * db-run.ts for what and how). QUICK=1 shrinks every size for a smoke run.
 * The scratch directory is removed on exit, failure and SIGINT/SIGTERM; the
 * cluster script removes the cluster.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isPostgresUrl } from "../../db-provider";
import type { Metric, RunResult } from "./db-run";
import { printTable } from "./stats";

const root = path.resolve(__dirname, "../../..");
const QUICK = process.env.QUICK === "1";
const pgUrl = process.env.DATABASE_URL ?? "";
if (!isPostgresUrl(pgUrl)) {
  console.error("bench:db needs a PostgreSQL DATABASE_URL: run it as `npm run bench:db` (lib/ops/postgres-cluster.sh starts a throwaway cluster).");
  process.exit(2);
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-bench-db-"));
let child: ChildProcess | null = null;
function cleanUp() {
  if (child && child.exitCode === null && child.pid) child.kill("SIGTERM");
  fs.rmSync(scratch, { recursive: true, force: true });
}
process.on("exit", cleanUp);
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  process.on(signal, () => {
    cleanUp();
    process.exit(code);
  });
}

/** Runs db-run.ts against one database and returns its result line. */
function runChild(label: string, databaseUrl: string): Promise<RunResult> {
  const dataDir = path.join(scratch, label.toLowerCase());
  fs.mkdirSync(dataDir, { recursive: true });
  const env = { ...process.env, DATABASE_URL: databaseUrl, GANTRY_DATA_DIR: dataDir, GANTRY_LOG_LEVEL: "error", BENCH_DB_LABEL: label };
  const args = ["--require", path.join(root, "lib/ops/server-only-shim.cjs"), path.join(root, "lib/ops/bench/db-run.ts")];
  return new Promise((resolve, reject) => {
    const p = spawn(path.join(root, "node_modules/.bin/tsx"), args, { cwd: root, env, stdio: ["ignore", "pipe", "inherit"] });
    child = p;
    let out = "";
    p.stdout!.setEncoding("utf8").on("data", (s: string) => (out += s));
    p.on("error", reject);
    p.on("exit", (code, signal) => {
      child = null;
      const line = out.split("\n").find((l) => l.startsWith("BENCH_DB_RESULT "));
      const other = out.split("\n").filter((l) => l.trim() && !l.startsWith("BENCH_DB_RESULT ")).join("\n");
      if (other) process.stderr.write(`${other}\n`);
      if (code !== 0 || !line) return reject(new Error(`${label} run failed (${signal ?? `exit ${code}`})`));
      resolve(JSON.parse(line.slice("BENCH_DB_RESULT ".length)) as RunResult);
    });
  });
}

/** The version of the PostgreSQL binaries the cluster script uses (the newest under /usr/lib/postgresql). */
function postgresVersion(): string {
  const candidates: string[] = [];
  try {
    const versions = fs.readdirSync("/usr/lib/postgresql").sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    const newest = versions.at(-1);
    if (newest) candidates.push(path.join("/usr/lib/postgresql", newest, "bin", "postgres"));
  } catch {
    // not Debian's layout: try PATH
  }
  candidates.push("postgres");
  for (const bin of candidates) {
    try {
      return execFileSync(bin, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().replace(/^postgres \(PostgreSQL\) /, "");
    } catch {
      // next candidate
    }
  }
  return "unknown";
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

function format(m: Metric | undefined): string {
  if (!m || !Number.isFinite(m.value)) return "n/a";
  if (m.unit === "ms") return `${m.value < 1 ? m.value.toFixed(4) : m.value.toFixed(2)} ms`;
  return `${Math.round(m.value).toLocaleString("en")} ${m.unit}`;
}

async function main() {
  const started = performance.now();
  const cpus = os.cpus();
  console.log(`bench:db${QUICK ? " (QUICK=1: smoke sizes)" : ""}`);
  console.log(`machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? "unknown CPU"}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}`);
  console.log(`load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")} (other work on the machine skews every number)`);
  console.log(`runtime: Node ${process.version}, Prisma ${packageVersion("@prisma/client")}, better-sqlite3 ${packageVersion("better-sqlite3")}, PostgreSQL ${postgresVersion()} (pg ${packageVersion("pg")})`);
  console.log("SQLite:     a scratch file, the app's settings (WAL, synchronous=FULL: every commit is fsynced to the WAL; transactions BEGIN IMMEDIATE)");
  console.log("PostgreSQL: the throwaway cluster of lib/ops/postgres-cluster.sh on loopback (fsync=off, synchronous_commit=off: no durability cost)");
  console.log("Both run in a child Node process that does all its calls on one thread (one core); PostgreSQL's server is a separate process.\n");

  const sqlite = await runChild("SQLite", `file:${path.join(scratch, "sqlite", "bench.db")}`);
  const pg = await runChild("PostgreSQL", pgUrl);

  const rows: string[][] = [["metric", "SQLite", "PostgreSQL", "PG/SQLite"]];
  for (const m of sqlite.metrics) {
    const p = pg.metrics.find((x) => x.key === m.key);
    const ratio = p && m.value > 0 ? p.value / m.value : NaN;
    rows.push([m.label, format(m), format(p), Number.isFinite(ratio) ? `×${ratio.toFixed(2)}` : "n/a"]);
  }
  console.log(`\n${sqlite.customers.toLocaleString("en")} customers with one license each, one app; list timings are medians; pages of 50.`);
  console.log("PG/SQLite: PostgreSQL's value over SQLite's (for ms above ×1 means PostgreSQL is slower; for req/s and rows/s above ×1 means it is faster).\n");
  printTable(rows);
  console.log("\nCACHED rows never reach the database: any SQLite/PostgreSQL gap there is noise (load, GC), not the provider.");
  console.log("PostgreSQL's tables are freshly bulk-loaded: until autovacuum has ANALYZEd them the planner works from default estimates");
  console.log("(the first page can then bitmap-scan and sort the whole app instead of walking the (teamId, createdAt, id) index backwards).");
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
