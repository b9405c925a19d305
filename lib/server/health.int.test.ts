import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { kekProvider, setKekProviderForTests } from "@/lib/crypto/provider";
import type { KekProvider } from "@/lib/crypto/kek";
import { dbProviderOf, PRISMA_LAYOUT } from "@/lib/db-provider";
import { env } from "@/lib/env";
import { Health, expectedMigrations } from "./health";

/** The migrations folder of the database this suite runs on (SQLite's or PostgreSQL's). */
const migrationsOfThisDb = path.join(process.cwd(), PRISMA_LAYOUT[dbProviderOf(env().databaseUrl)].migrations);

/** /healthz and /readyz through the handler lib/server mounts, on a real socket. */
const servers: http.Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));
afterEach(() => setKekProviderForTests(undefined));

async function serve(health: Health): Promise<string> {
  const server = http.createServer((req, res) => {
    if (!health.handle(req, res)) {
      res.writeHead(404);
      res.end();
    }
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function get(url: string) {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as Record<string, unknown> };
}

describe("health probes", () => {
  it("/healthz: 200 JSON; other paths are not answered", async () => {
    const base = await serve(new Health());
    expect(await get(`${base}/healthz`)).toMatchObject({ status: 200, type: "application/json", body: { status: "ok" } });
    expect((await fetch(`${base}/healthzz`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: "POST" })).status).toBe(405);
  });

  it("/readyz: 200 with every check ok on a migrated database with a KEK", async () => {
    const base = await serve(new Health());
    const r = await get(`${base}/readyz`);
    expect(r).toMatchObject({ status: 200, body: { status: "ready", failing: [], checks: { db: "ok", migrations: "ok", kek: "ok" } } });
    expect(expectedMigrations(migrationsOfThisDb).length).toBeGreaterThan(1);
  });

  it("/readyz: 503 naming `migrations` when the build has a migration the database lacks", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-migrations-"));
    fs.cpSync(migrationsOfThisDb, dir, { recursive: true });
    fs.mkdirSync(path.join(dir, "29991231000000_from_the_future"));
    fs.writeFileSync(path.join(dir, "29991231000000_from_the_future", "migration.sql"), "SELECT 1;\n");
    const base = await serve(new Health({ migrationsDir: dir }));
    const r = await get(`${base}/readyz`);
    expect(r).toMatchObject({ status: 503, body: { status: "unready", failing: ["migrations"], pendingMigrations: ["29991231000000_from_the_future"] } });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("/readyz: 503 naming `kek` without a usable key-encryption key, and carries no key material", async () => {
    const real = kekProvider();
    const broken: KekProvider = { currentKekId: "gone", wrap: real.wrap.bind(real), unwrap: real.unwrap.bind(real), has: () => false };
    setKekProviderForTests(broken);
    const base = await serve(new Health());
    const res = await fetch(`${base}/readyz`);
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(JSON.parse(text)).toMatchObject({ failing: ["kek"], checks: { kek: "failed", db: "ok" } });
    expect(text).not.toMatch(/gone|local-|base64/);
  });

  it("/readyz: 503 naming `shutdown` once draining; /healthz stays 200", async () => {
    const health = new Health();
    const base = await serve(health);
    health.markDraining();
    expect(await get(`${base}/readyz`)).toMatchObject({ status: 503, body: { failing: ["shutdown"], checks: { shutdown: "failed", db: "ok" } } });
    expect((await get(`${base}/healthz`)).status).toBe(200);
  });
});
