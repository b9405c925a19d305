import { execFileSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { db } from "@/lib/db";
import { createCustomer } from "@/lib/licenses/customers";
import { teamContextForUser } from "@/lib/teams/access";
import { purgeExpired } from "./retention";

const DAY = 24 * 3600 * 1000;
let teamId = "";
let appId = "";
let licenseId = "";

beforeAll(async () => {
  const { user, team } = await signUp({ email: `retention-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Retention" });
  teamId = team.id;
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  const slug = `ret-${Date.now().toString(36)}`;
  appId = (await createApp(ctx, { name: "Retention", slug })).id;
  licenseId = (await createCustomer(ctx, slug, { name: "Retention customer" })).license.id;
});

const pullAt = (createdAt: Date, reference: string) => ({
  teamId, appId, licenseId, repository: "acme/ret", kind: "manifests", reference, method: "GET", status: 200, bytesSent: 10, durationMs: 1, createdAt,
});

async function seed(now: Date, olds: number, news: number) {
  await db.pullEvent.deleteMany({ where: { licenseId } });
  await db.pullEvent.createMany({
    data: [
      ...Array.from({ length: olds }, (_, i) => pullAt(new Date(now.getTime() - 91 * DAY - i * 1000), `old-${i}`)),
      ...Array.from({ length: news }, (_, i) => pullAt(new Date(now.getTime() - 89 * DAY + i * 1000), `new-${i}`)),
    ],
  });
}

describe("retention purge", () => {
  it("deletes pull events older than the retention in bounded batches and keeps newer ones", async () => {
    const now = new Date();
    await seed(now, 25, 7);
    const report = await purgeExpired({ now, pullLogDays: 90, batch: 10, pauseMs: 0 });
    expect(report.pullEvents).toBeGreaterThanOrEqual(25); // other files' rows are recent
    const left = await db.pullEvent.findMany({ where: { licenseId }, select: { reference: true } });
    expect(left.map((r) => r.reference).sort()).toEqual(Array.from({ length: 7 }, (_, i) => `new-${i}`).sort());
    // Idempotent: a second run (another replica) finds nothing to do.
    expect((await purgeExpired({ now, pullLogDays: 90, batch: 10, pauseMs: 0 })).pullEvents).toBe(0);
  });

  it("two purges racing (two replicas) delete each old row once between them", async () => {
    const now = new Date();
    await seed(now, 40, 3);
    const [a, b] = await Promise.all([
      purgeExpired({ now, pullLogDays: 90, batch: 7, pauseMs: 0 }),
      purgeExpired({ now, pullLogDays: 90, batch: 7, pauseMs: 0 }),
    ]);
    expect(a.pullEvents + b.pullEvents).toBe(40);
    expect(await db.pullEvent.count({ where: { licenseId } })).toBe(3);
  });

  it("honours GANTRY_PULL_LOG_DAYS through the option", async () => {
    const now = new Date();
    await seed(now, 2, 5); // 91 and 89 days old
    expect((await purgeExpired({ now, pullLogDays: 30, pauseMs: 0 })).pullEvents).toBeGreaterThanOrEqual(7);
    expect(await db.pullEvent.count({ where: { licenseId } })).toBe(0);
  });

  it("deletes rate-limit windows untouched for a day, and pending invitations long expired", async () => {
    const now = new Date();
    const tag = `ret-${Date.now()}`;
    await db.rateLimitBucket.createMany({
      data: [
        { key: `${tag}:old@1`, windowStart: new Date(now.getTime() - 3 * DAY), count: 3, updatedAt: new Date(now.getTime() - 2 * DAY) },
        { key: `${tag}:new@2`, windowStart: new Date(now.getTime() - 60_000), count: 1, updatedAt: now },
      ],
    });
    await db.invitation.createMany({
      data: [
        { teamId, email: `${tag}-old@example.com`, role: "member", invitedByLabel: "t", expiresAt: new Date(now.getTime() - 100 * DAY) },
        { teamId, email: `${tag}-recent@example.com`, role: "member", invitedByLabel: "t", expiresAt: new Date(now.getTime() - 3 * DAY) },
        { teamId, email: `${tag}-accepted@example.com`, role: "member", invitedByLabel: "t", status: "accepted", expiresAt: new Date(now.getTime() - 100 * DAY) },
      ],
    });
    const report = await purgeExpired({ now, pauseMs: 0 });
    expect(report.rateLimitBuckets).toBeGreaterThanOrEqual(1);
    expect(report.invitations).toBeGreaterThanOrEqual(1);
    expect((await db.rateLimitBucket.findMany({ where: { key: { startsWith: tag } }, select: { key: true } })).map((b) => b.key)).toEqual([`${tag}:new@2`]);
    const invites = await db.invitation.findMany({ where: { email: { startsWith: tag } }, select: { email: true } });
    expect(invites.map((i) => i.email).sort()).toEqual([`${tag}-accepted@example.com`, `${tag}-recent@example.com`]);
  });
});

describe("gantry purge (CLI)", () => {
  const cli = (...args: string[]) => {
    try {
      const out = execFileSync("npm", ["run", "-s", "gantry", "--", "purge", ...args], { encoding: "utf8", env: process.env, stdio: ["ignore", "pipe", "pipe"] });
      return { code: 0, out: out.trim().split("\n"), err: "" };
    } catch (e) {
      const err = e as { status: number; stdout: string; stderr: string };
      return { code: err.status, out: err.stdout.trim().split("\n"), err: err.stderr };
    }
  };

  it("purges what has aged out and prints one JSON line; refuses bad options", async () => {
    const now = new Date();
    await seed(now, 3, 2);
    const run = cli();
    expect(run.code).toBe(0);
    expect(run.out).toHaveLength(1);
    const report = JSON.parse(run.out[0]!) as Record<string, unknown>;
    expect(report).toMatchObject({ pullEvents: 3, rateLimitBuckets: expect.any(Number), invitations: expect.any(Number), pullsBefore: expect.any(String) });
    expect(await db.pullEvent.count({ where: { licenseId } })).toBe(2);

    const withDays = cli("--pull-log-days", "1");
    expect(withDays.code).toBe(0);
    expect(JSON.parse(withDays.out[0]!)).toMatchObject({ pullEvents: 2 });

    expect(cli("--pull-log-days", "0").code).toBe(2);
    expect(cli("--nope").code).toBe(2);
  });
});
