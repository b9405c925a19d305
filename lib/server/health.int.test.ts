import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { kekProvider, setKekProviderForTests } from "@/lib/crypto/provider";
import type { KekProvider } from "@/lib/crypto/kek";
import { db } from "@/lib/db";
import { dbProviderOf, PRISMA_LAYOUT } from "@/lib/db-provider";
import { env } from "@/lib/env";
import { getFrom, startGantryServer, stopGantryServers } from "@/lib/testing/gantry-server";
import { freePort } from "@/lib/testing/registries/ports";
import { Health, expectedMigrations } from "./health";

/** The migrations folder of the database this suite runs on (SQLite's or PostgreSQL's). */
const migrationsOfThisDb = path.join(process.cwd(), PRISMA_LAYOUT[dbProviderOf(env().databaseUrl)].migrations);

/** /healthz and /readyz through the handler lib/server mounts, on a real socket. */
const servers: http.Server[] = [];
afterAll(() => {
  servers.forEach((s) => s.close());
  stopGantryServers();
});
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

/**
 * The probes of a real server process (lib/testing/gantry-server.ts) whose
 * DATABASE_URL names a database of this suite's provider that cannot be used.
 * Each URL carries something secret-looking that the answers must not repeat.
 */
describe("health probes of a server whose database is unreachable", () => {
  const provider = dbProviderOf(env().databaseUrl);
  const secret = () => `pw-${crypto.randomBytes(6).toString("hex")}`;
  /** The suite's PostgreSQL URL with another database name and a password. */
  const pgUrl = (database: string, password: string) => {
    const u = new URL(env().databaseUrl);
    u.pathname = `/${database}`;
    u.username ||= "gantry";
    u.password = password;
    return u.toString();
  };

  const unreachable: { what: string; url: () => Promise<{ url: string; secrets: string[] }> }[] =
    provider === "sqlite"
      ? [
          {
            what: "a file in a directory that was removed",
            url: () => {
              const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-removed-"));
              fs.rmSync(dir, { recursive: true });
              return Promise.resolve({ url: `file:${path.join(dir, "gantry.db")}`, secrets: [dir] });
            },
          },
        ]
      : [
          {
            what: "a closed port",
            url: async () => {
              const password = secret();
              const port = await freePort();
              return { url: `postgresql://gantry:${password}@127.0.0.1:${port}/gantry`, secrets: [password, `127.0.0.1:${port}`] };
            },
          },
          {
            what: "a database the server does not have",
            url: () => {
              const password = secret();
              const database = `gantry_missing_${crypto.randomBytes(4).toString("hex")}`;
              return Promise.resolve({ url: pgUrl(database, password), secrets: [password, database] });
            },
          },
        ];

  it.each(unreachable)("/readyz: 503 JSON naming `db` ($what), without the URL or its secrets; /healthz stays 200", async ({ url: make }) => {
    const { url, secrets } = await make();
    const server = await startGantryServer({ DATABASE_URL: url });
    const ready = await getFrom(server.port, "/readyz");
    expect(ready.status, ready.body).toBe(503);
    expect(ready.headers["content-type"]).toBe("application/json");
    const body = JSON.parse(ready.body) as { status: string; checks: Record<string, string>; failing: string[] };
    expect(body).toMatchObject({ status: "unready", checks: { db: "failed", kek: "ok" } });
    expect(body.failing).toContain("db");
    for (const s of [url, ...secrets, "file:", "postgres"]) expect(ready.body).not.toContain(s);
    // Why goes to the log.
    expect(server.output()).toMatch(/readyz: the database check failed/);

    const health = await getFrom(server.port, "/healthz");
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: "ok" });
  });

  it("/readyz: a database that answers but was never migrated is `migrations`, not `db`", async () => {
    let url: string;
    let drop = async () => {};
    if (provider === "sqlite") {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-empty-"));
      url = `file:${path.join(dir, "gantry.db")}`;
      drop = async () => fs.rmSync(dir, { recursive: true, force: true });
    } else {
      const database = `gantry_empty_${crypto.randomBytes(4).toString("hex")}`;
      await db.$executeRawUnsafe(`CREATE DATABASE ${database}`);
      url = pgUrl(database, "");
      drop = async () => void (await db.$executeRawUnsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
    }
    try {
      const server = await startGantryServer({ DATABASE_URL: url });
      const ready = await getFrom(server.port, "/readyz");
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body)).toMatchObject({ status: "unready", checks: { db: "ok", migrations: "failed", kek: "ok" }, failing: ["migrations"] });
      server.child.kill("SIGKILL");
      await server.exited;
    } finally {
      await drop();
    }
  });
});
