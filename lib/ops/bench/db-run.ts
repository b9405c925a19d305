/**
 * One provider's half of `npm run bench:db` (lib/ops/bench/db.ts starts it
 * twice: with a scratch SQLite file URL, then with the PostgreSQL URL). It
 * migrates the database DATABASE_URL names, seeds it through Prisma, measures,
 * prints progress on stderr and, last, one line `BENCH_DB_RESULT {json}` on
 * stdout. Not meant to be run alone (it leaves its data where DATABASE_URL
 * points; the parent deletes the scratch directory and the cluster).
 *
 * 1. The proxy's license decision (decideProxyPull): uncached (every call a
 *    different license, and forgetLicenseDecisions between phases, so each call
 *    is one indexed lookup) sequentially and with 8 calls in flight; cached (a
 *    warm set of 100 licenses, called for CACHED_MS; the 500 ms TTL makes a few
 *    of those calls refresh, as in production). Also the Node process's CPU per
 *    uncached call (process.cpuUsage): what one core could sustain, whatever
 *    else the machine is doing.
 * 2. listCustomers with N customers in one app: first page, the page after 90%
 *    of the rows (keyset cursor), the same depth by OFFSET (baseline), and a
 *    search matching one customer.
 * 3. Pull events as lib/proxy/pull-log-writer.ts writes them (createMany of
 *    500), and single-row creates, in rows per second.
 */
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import os from "node:os";
import path from "node:path";
import { summarize } from "./stats";

export interface Metric {
  key: string;
  label: string;
  unit: string;
  value: number;
  /** "lower" for times (ms), "higher" for rates. */
  better: "lower" | "higher";
}

export interface RunResult {
  provider: string;
  customers: number;
  metrics: Metric[];
}

const root = path.resolve(__dirname, "../../..");
const QUICK = process.env.QUICK === "1";
const N = QUICK ? 5_000 : 100_000;
const SEED_BATCH = 1_000;
const UNCACHED_CALLS = QUICK ? 500 : 5_000;
const CONCURRENCY = 8;
const CACHED_KEYS = 100;
const CACHED_MS = QUICK ? 300 : 2_000;
const LIST_RUNS = QUICK ? 5 : 21;
const PULL_BATCH = 500;
const PULL_BATCHES = QUICK ? 4 : 40;
const SINGLE_ROWS = QUICK ? 200 : 2_000;

const progress = (m: string) => process.stderr.write(`  [${process.env.BENCH_DB_LABEL ?? "db"}] ${m}\n`);

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const keyHash = (k: number) => crypto.createHash("sha256").update(`bench-license-${k}`).digest("hex");
const customerId = (k: number) => `c${String(k).padStart(7, "0")}`;

function migrate(): void {
  try {
    execFileSync(path.join(root, "node_modules", ".bin", "prisma"), ["migrate", "deploy"], { cwd: root, env: process.env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`prisma migrate deploy failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  }
}

async function main() {
  const migrateStart = performance.now();
  migrate();
  progress(`migrated in ${((performance.now() - migrateStart) / 1000).toFixed(1)} s`);

  const { db } = await import("@/lib/db");
  const { dbProviderOf } = await import("@/lib/db-provider");
  const { env } = await import("@/lib/env");
  const { listCustomers } = await import("@/lib/licenses/customers");
  const { encodeCursor } = await import("@/lib/pagination/keyset");
  const { decideProxyPull, forgetLicenseDecisions } = await import("@/lib/licenses/pull-decision");
  const { writePulls } = await import("@/lib/proxy/pull-log-writer");
  const metrics: Metric[] = [];
  const add = (key: string, label: string, unit: string, value: number, better: Metric["better"]) => metrics.push({ key, label, unit, value, better });

  // Seed: one team, one app, N customers each with a license (createMany batches,
  // as bench/customers.ts); one license in 10 revoked, one in 10 expiring later.
  const stamp = Date.now();
  const team = await db.team.create({ data: { name: "Bench", slug: `bench-${stamp}` } });
  const app = await db.app.create({ data: { teamId: team.id, name: "Bench", slug: `bench-${stamp}` } });
  const base = Date.now() - N * 1000;
  const future = new Date(Date.now() + 365 * 86_400_000);
  const seedStart = performance.now();
  for (let i = 0; i < N; i += SEED_BATCH) {
    const batch = Array.from({ length: Math.min(SEED_BATCH, N - i) }, (_, j) => i + j);
    await db.customer.createMany({
      data: batch.map((k) => ({ id: customerId(k), teamId: team.id, appId: app.id, name: `Customer ${k}`, email: `c${k}@example.com`, type: "paid", searchText: `customer ${k} c${k}@example.com`, createdAt: new Date(base + k * 1000) })),
    });
    await db.license.createMany({
      data: batch.map((k) => ({ teamId: team.id, appId: app.id, customerId: customerId(k), keyHash: keyHash(k), fingerprint: keyHash(k).slice(0, 8), revokedAt: k % 10 === 0 ? new Date() : null, expiresAt: k % 10 === 5 ? future : null })),
    });
  }
  const seedSeconds = (performance.now() - seedStart) / 1000;
  add("seed", `seed ${N.toLocaleString("en")} customers + licenses (createMany ${SEED_BATCH})`, "rows/s", (2 * N) / seedSeconds, "higher");
  progress(`seeded ${N} customers and ${N} licenses in ${seedSeconds.toFixed(1)} s`);

  // 1. The license decision.
  const keys = Array.from({ length: N }, (_, k) => keyHash(k));
  // Warm-up (JIT, connection pool, page cache) on licenses the measured phases do not use.
  forgetLicenseDecisions();
  for (let k = N - 200; k < N; k++) await decideProxyPull(keys[k]!, app.slug);

  async function timedCalls(indexes: number[], concurrency: number) {
    const times: number[] = [];
    let allowed = 0;
    let next = 0;
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < indexes.length) {
          const key = keys[indexes[next++]!]!;
          const s = performance.now();
          const d = await decideProxyPull(key, app.slug);
          times.push(performance.now() - s);
          if (d.allow) allowed++;
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    times.sort((a, b) => a - b);
    const cpuMsPerCall = (cpu.user + cpu.system) / 1000 / indexes.length;
    return { p50: percentile(times, 50), p99: percentile(times, 99), perSecond: indexes.length / seconds, cpuMsPerCall, allowed, calls: indexes.length };
  }
  const spread = (from: number, count: number) => Array.from({ length: count }, (_, i) => (from + i * 7919) % (N - 200)); // distinct: 7919 is prime, N is not a multiple

  forgetLicenseDecisions();
  const seq = await timedCalls(spread(0, UNCACHED_CALLS), 1);
  forgetLicenseDecisions();
  const conc = await timedCalls(spread(UNCACHED_CALLS, UNCACHED_CALLS), CONCURRENCY);
  // Sanity: 9 in 10 licenses are active (1 in 10 revoked); far fewer means the lookups miss.
  if (seq.allowed / seq.calls < 0.8) throw new Error(`only ${seq.allowed} of ${seq.calls} decisions allowed: the lookup is not finding the seeded licenses`);
  add("dec.unc.p50", "decision UNCACHED, sequential: p50", "ms", seq.p50, "lower");
  add("dec.unc.p99", "decision UNCACHED, sequential: p99", "ms", seq.p99, "lower");
  add("dec.unc.rps", "decision UNCACHED, sequential: req/s", "req/s", seq.perSecond, "higher");
  add("dec.unc8.p50", `decision UNCACHED, ${CONCURRENCY} in flight: p50`, "ms", conc.p50, "lower");
  add("dec.unc8.p99", `decision UNCACHED, ${CONCURRENCY} in flight: p99`, "ms", conc.p99, "lower");
  add("dec.unc8.rps", `decision UNCACHED, ${CONCURRENCY} in flight: req/s`, "req/s", conc.perSecond, "higher");
  add("dec.unc8.cpu", `decision UNCACHED, ${CONCURRENCY} in flight: Node CPU/call (all threads)`, "ms", conc.cpuMsPerCall, "lower");
  progress(`uncached decisions: ${seq.perSecond.toFixed(0)} req/s sequential, ${conc.perSecond.toFixed(0)} req/s with ${CONCURRENCY} in flight`);

  // Cached: a hot set of licenses, called round-robin for CACHED_MS.
  forgetLicenseDecisions();
  const hot = keys.slice(0, CACHED_KEYS);
  for (const k of hot) await decideProxyPull(k, app.slug);
  const cachedTimes: number[] = [];
  const cachedStart = performance.now();
  let calls = 0;
  while (performance.now() - cachedStart < CACHED_MS) {
    for (let i = 0; i < 1000; i++) {
      const s = performance.now();
      await decideProxyPull(hot[calls % CACHED_KEYS]!, app.slug);
      cachedTimes.push(performance.now() - s);
      calls++;
    }
  }
  const cachedSeconds = (performance.now() - cachedStart) / 1000;
  cachedTimes.sort((a, b) => a - b);
  add("dec.cache.p50", "decision CACHED (500 ms TTL), sequential: p50", "ms", percentile(cachedTimes, 50), "lower");
  add("dec.cache.p99", "decision CACHED (500 ms TTL), sequential: p99", "ms", percentile(cachedTimes, 99), "lower");
  add("dec.cache.rps", "decision CACHED (500 ms TTL), sequential: req/s", "req/s", calls / cachedSeconds, "higher");
  progress(`cached decisions: ${(calls / cachedSeconds).toFixed(0)} req/s`);

  // 2. The customer list.
  const depth = Math.floor(N * 0.9);
  const deepRow = (await db.customer.findMany({ where: { appId: app.id }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], skip: depth - 1, take: 1, select: { id: true, createdAt: true } }))[0];
  if (!deepRow) throw new Error("no row at the deep page's depth");
  const deepCursor = encodeCursor(deepRow);
  const needle = `customer ${N - 1 - Math.floor(N / 3)}`; // one match, a third of the way down
  async function medianMs(fn: () => Promise<{ customers: unknown[] } | unknown[]>, expect: number) {
    const times: number[] = [];
    for (let i = 0; i < LIST_RUNS; i++) {
      const s = performance.now();
      const r = await fn();
      times.push(performance.now() - s);
      const got = Array.isArray(r) ? r.length : r.customers.length;
      if (got < expect) throw new Error(`expected at least ${expect} rows, got ${got}`);
    }
    return summarize(times).median;
  }
  add("list.first", "customers: first page (50)", "ms", await medianMs(() => listCustomers(team.id, { appId: app.id }), 50), "lower");
  add("list.deep", `customers: page after ${depth.toLocaleString("en")} rows (keyset)`, "ms", await medianMs(() => listCustomers(team.id, { appId: app.id, before: deepCursor }), 50), "lower");
  add(
    "list.offset",
    `customers: same depth by OFFSET (baseline)`,
    "ms",
    await medianMs(() => db.customer.findMany({ where: { teamId: team.id, appId: app.id }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], skip: depth, take: 51, select: { id: true, license: { select: { id: true } } } }), 50),
    "lower",
  );
  add("list.search", `customers: search "${needle}" (1 match)`, "ms", await medianMs(() => listCustomers(team.id, { appId: app.id, q: needle }), 1), "lower");
  progress("customer list measured");

  // 3. Pull events.
  const licenses = await db.license.findMany({ where: { appId: app.id, revokedAt: null }, select: { id: true }, take: 1000 });
  const record = (i: number) => ({
    teamId: team.id,
    appId: app.id,
    licenseId: licenses[i % licenses.length]!.id,
    repository: "acme/api",
    kind: i % 5 === 0 ? "manifests" : "blobs",
    reference: `sha256:${crypto.createHash("sha256").update(String(i)).digest("hex")}`,
    method: "GET",
    status: 200,
    bytesSent: 1_048_576 + i,
    durationMs: 12,
    clientIp: "203.0.113.7",
    userAgent: "containerd/2.0.0",
    createdAt: new Date(),
  });
  await writePulls(Array.from({ length: PULL_BATCH }, (_, i) => record(i))); // warm-up
  const batchStart = performance.now();
  for (let b = 0; b < PULL_BATCHES; b++) {
    const { failed, error } = await writePulls(Array.from({ length: PULL_BATCH }, (_, i) => record(b * PULL_BATCH + i)));
    if (failed) throw new Error(`writePulls: ${failed} rows failed: ${error}`);
  }
  const batchRate = (PULL_BATCHES * PULL_BATCH) / ((performance.now() - batchStart) / 1000);
  add("pull.batch", `pull events: writePulls, createMany ${PULL_BATCH}/batch`, "rows/s", batchRate, "higher");
  const singleStart = performance.now();
  for (let i = 0; i < SINGLE_ROWS; i++) await db.pullEvent.create({ data: record(i), select: { id: true } });
  const singleRate = SINGLE_ROWS / ((performance.now() - singleStart) / 1000);
  add("pull.single", "pull events: single-row create, sequential", "rows/s", singleRate, "higher");
  progress(`pull events: ${batchRate.toFixed(0)} rows/s batched, ${singleRate.toFixed(0)} rows/s single`);
  progress(`done; load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);

  await db.$disconnect();
  const result: RunResult = { provider: dbProviderOf(env().databaseUrl), customers: N, metrics };
  process.stdout.write(`BENCH_DB_RESULT ${JSON.stringify(result)}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
