/**
 * `npm run bench:customers`: customer list performance with 10,000 customers
 * on a scratch SQLite file. Prints median times of the first page, a deep page
 * (keyset cursor after 9,000 rows), a search and a state filter, and the ratio
 * deep/first page (keyset pagination should keep it near 1).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(__dirname, "../../..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-bench-customers-"));
process.env.GANTRY_DATA_DIR = dir;
process.env.DATABASE_URL = `file:${path.join(dir, "bench.db")}`;
process.env.GANTRY_LOG_LEVEL = "error";
execFileSync(path.join(root, "node_modules", ".bin", "prisma"), ["migrate", "deploy"], { cwd: root, env: process.env, stdio: "ignore" });

const N = 10_000;
const RUNS = 15;

async function main() {
  const { db } = await import("@/lib/db");
  const { listCustomers } = await import("@/lib/licenses/customers");
  const { encodeCursor } = await import("@/lib/pagination/keyset");
  const team = await db.team.create({ data: { name: "Bench", slug: `bench-${Date.now()}` } });
  const app = await db.app.create({ data: { teamId: team.id, name: "Bench", slug: `bench-${Date.now()}` } });
  const t0 = performance.now();
  const base = Date.now() - N * 1000;
  for (let i = 0; i < N; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, N - i) }, (_, j) => i + j);
    await db.customer.createMany({
      data: batch.map((k) => ({ id: `c${String(k).padStart(6, "0")}`, teamId: team.id, appId: app.id, name: `Customer ${k}`, email: `c${k}@example.com`, type: "paid", searchText: `customer ${k} c${k}@example.com`, createdAt: new Date(base + k * 1000) })),
    });
    await db.license.createMany({
      data: batch.map((k) => ({ teamId: team.id, appId: app.id, customerId: `c${String(k).padStart(6, "0")}`, keyHash: `h${k}`, fingerprint: "00000000", revokedAt: k % 10 === 0 ? new Date() : null })),
    });
  }
  const seedMs = performance.now() - t0;
  const deepRow = (await db.customer.findMany({ where: { appId: app.id }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], skip: 8999, take: 1, select: { id: true, createdAt: true } }))[0];
  const deepCursor = deepRow ? encodeCursor(deepRow) : undefined;

  async function median(fn: () => Promise<unknown>) {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = performance.now();
      await fn();
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(RUNS / 2)] ?? 0;
  }
  const first = await median(() => listCustomers(team.id, { appId: app.id }));
  const deep = await median(() => listCustomers(team.id, { appId: app.id, before: deepCursor }));
  const search = await median(() => listCustomers(team.id, { appId: app.id, q: "customer 9999" }));
  const revoked = await median(() => listCustomers(team.id, { appId: app.id, state: "revoked" }));
  const offsetDeep = await median(() => db.customer.findMany({ where: { appId: app.id }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], skip: 9000, take: 51, include: { license: true } }));
  console.log(`customers: ${N}, seeded in ${(seedMs / 1000).toFixed(1)} s; medians of ${RUNS} runs, page size 50`);
  console.log(`first page            ${first.toFixed(2)} ms`);
  console.log(`page after 9,000 rows ${deep.toFixed(2)} ms   (keyset cursor; ratio to first page ×${(deep / first).toFixed(2)})`);
  console.log(`same depth by OFFSET  ${offsetDeep.toFixed(2)} ms   (baseline; ×${(offsetDeep / first).toFixed(2)} of first page)`);
  console.log(`search "customer 9999" ${search.toFixed(2)} ms`);
  console.log(`filter state=revoked  ${revoked.toFixed(2)} ms`);
  await db.$disconnect();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
