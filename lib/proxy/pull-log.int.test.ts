import { setImmediate as nextTurn } from "node:timers/promises";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { db } from "@/lib/db";
import { createCustomer } from "@/lib/licenses/customers";
import { log } from "@/lib/log";
import { teamContextForUser } from "@/lib/teams/access";
import { flushPulls, recordPull } from "./pull-log";

type Tenant = { teamId: string; appId: string; licenseId: string };

async function tenant(name: string): Promise<Tenant> {
  const { user, team } = await signUp({ email: `${name}-${Date.now()}@example.com`, password: "correct horse battery", teamName: name });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  const slug = `${name}-${Date.now().toString(36)}`;
  const appId = (await createApp(ctx, { name, slug })).id;
  const licenseId = (await createCustomer(ctx, slug, { name: `${name} customer` })).license.id;
  return { teamId: team.id, appId, licenseId };
}

function pull(t: Tenant, reference: string) {
  recordPull({ ...t, repository: "acme/api", kind: "manifests", reference, method: "GET", status: 200, bytesSent: 512, durationMs: 2, clientIp: "10.0.0.9", userAgent: "flood/1.0" });
}

let flooder: Tenant;
let quiet: Tenant;
beforeAll(async () => {
  flooder = await tenant("flooder");
  quiet = await tenant("quiet");
  pull(flooder, "warm-up"); // the writer thread started: the flood meets a writer that writes
  await flushPulls();
});
afterEach(() => vi.restoreAllMocks());

describe("the pull log under one tenant's flood", () => {
  it("keeps every record of the other team and logs the flooder's drops by team", { timeout: 180_000 }, async () => {
    const errors = vi.spyOn(log, "error");
    const before = await db.pullEvent.count({ where: { teamId: flooder.teamId } });
    // 60,000 records in 60 bursts, three times the shared 20,000-record queue and
    // far faster than the writer writes; the other team's 60 records arrive among them, and one after.
    const FLOOD = 60_000;
    for (let burst = 0; burst < 60; burst++) {
      for (let i = 0; i < FLOOD / 60; i++) pull(flooder, `flood-${burst}-${i}`);
      pull(quiet, `quiet-${burst}`);
      await nextTurn(); // the writer's replies come in between bursts
    }
    // Batches take from every team in turn: a record of the other team is written
    // within a batch or two, not after the flooder's backlog of thousands.
    pull(quiet, "late");
    const flooderRows = () => db.pullEvent.count({ where: { teamId: flooder.teamId } });
    await expect.poll(() => db.pullEvent.count({ where: { teamId: quiet.teamId } }), { timeout: 10_000, interval: 20 }).toBe(61);
    const flooderWhenQuietDone = await flooderRows();
    await flushPulls();

    const written = (await flooderRows()) - before;
    expect(flooderWhenQuietDone - before).toBeLessThan(written - 1_000);
    expect(written).toBeGreaterThanOrEqual(20_000); // the flooder keeps what fits
    expect(written).toBeLessThan(FLOOD);

    const drops = errors.mock.calls.filter(([message]) => message.startsWith("pull records dropped"));
    expect(drops.length).toBeGreaterThan(0);
    const byTeam = (field: Record<string, unknown> | undefined) => (field?.byTeam ?? {}) as Record<string, number>;
    const flooderDrops = drops.reduce((sum, [, fields]) => sum + (byTeam(fields)[flooder.teamId] ?? 0), 0);
    expect(flooderDrops).toBe(FLOOD - written);
    expect(drops.some(([, fields]) => quiet.teamId in byTeam(fields))).toBe(false);
    expect(drops.reduce((sum, [, fields]) => sum + Number(fields?.dropped ?? 0), 0)).toBe(FLOOD - written);
  });
});
