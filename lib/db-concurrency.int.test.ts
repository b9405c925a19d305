import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { db } from "@/lib/db";
import { isPostgresUrl } from "@/lib/db-provider";
import { env } from "@/lib/env";
import { createCustomer } from "@/lib/licenses/customers";
import { flushPulls, recordPull } from "@/lib/proxy/pull-log";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";

/**
 * Transactions of the serving thread while the pull-log writer thread (its own
 * connection) writes: on SQLite in rollback-journal mode a deferred transaction
 * that reads and then writes meets SQLITE_BUSY (Prisma: "Operation has timed
 * out") whenever the writer holds the lock; WAL with IMMEDIATE transactions
 * waits its turn instead.
 */
let ctx: TeamContext;
let slug = "";
let teamId = "";
let appId = "";
let licenseId = "";

beforeAll(async () => {
  const { user, team } = await signUp({ email: `busy-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Busy" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  teamId = team.id;
  slug = `busy-${Date.now().toString(36)}`;
  appId = (await createApp(ctx, { name: "Busy", slug })).id;
  licenseId = (await createCustomer(ctx, slug, { name: "Puller" })).license.id;
});

function pull(i: number) {
  recordPull({ teamId, appId, licenseId, repository: "acme/api", kind: "blobs", reference: `sha256:${i.toString(16).padStart(64, "0")}`, method: "GET", status: 200, bytesSent: 1024, durationMs: 3, clientIp: "10.0.0.1", userAgent: "containerd/2.0" });
}

describe("the database under concurrent writers", () => {
  it("creates 20 customers in parallel while the pull-log writer flushes 5,000 rows, without an error (SQLite: in WAL mode)", async () => {
    // The writer thread started and connected, so the flush below is all writing.
    pull(-1);
    await flushPulls();
    const before = await db.pullEvent.count({ where: { licenseId } });

    for (let i = 0; i < 5_000; i++) pull(i);
    const flushed = flushPulls();
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => createCustomer(ctx, slug, { name: `Parallel ${i}`, email: `p${i}@example.com` })));
    await flushed;

    const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : []));
    expect(failures).toEqual([]);
    expect(await db.customer.count({ where: { appId, name: { startsWith: "Parallel " } } })).toBe(20);
    expect(await db.pullEvent.count({ where: { licenseId } })).toBe(before + 5_000);

    // On SQLite, what makes that hold: the file is in WAL mode (seen by another connection; it persists in the file).
    const url = env().databaseUrl;
    if (!isPostgresUrl(url)) {
      const file = new Database(url.replace(/^file:/, ""), { readonly: true });
      try {
        expect(file.pragma("journal_mode", { simple: true })).toBe("wal");
      } finally {
        file.close();
      }
    }
  });

  it("rolls back a transaction that throws, and the next transaction still gets its turn", async () => {
    const failing = db.$transaction(async (tx) => {
      await tx.customer.create({ data: { teamId, appId, name: "Rolled back", type: "paid", searchText: "rolled back" } });
      throw new Error("changed my mind");
    });
    await expect(failing).rejects.toThrow("changed my mind");
    expect(await db.customer.count({ where: { appId, name: "Rolled back" } })).toBe(0);
    // Two more in a row: a turn not released would leave these waiting forever.
    for (const name of ["After 1", "After 2"]) await createCustomer(ctx, slug, { name });
    expect(await db.customer.count({ where: { appId, name: { startsWith: "After " } } })).toBe(2);
  });
});
