import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { signUp } from "@/lib/auth/sign-up";
import { createApp, getApp, updateApp } from "@/lib/apps/apps";
import { createCustomer, restoreLicense, revokeLicense, setLicenseExpiry } from "@/lib/licenses/customers";
import { teamContextForUser } from "@/lib/teams/access";
import { createApiToken, revokeApiToken } from "@/lib/api-tokens/tokens";
import { setExtraPatterns, setLicensePin } from "@/lib/releases/scope";

// Races through the real functions, which read and then write in separate
// awaits: with the guard gone, several of the racing calls succeed. Only Prisma
// is used, so the same tests hold on PostgreSQL.
const N = 20;
let n = 0;
const uniq = () => `${Date.now().toString(36)}${n++}`;

// A clock that counts the queries this process sends (the integration
// environment sets GANTRY_COUNT_DB_QUERIES=1, which makes Prisma emit them).
const queryWatchers = new Set<() => void>();
db.$on("query", () => {
  for (const watch of [...queryWatchers]) watch();
});
/** Resolves once `k` more queries have run. */
function queriesFromNow(k: number): Promise<void> {
  return new Promise((resolve) => {
    if (k === 0) return resolve();
    let seen = 0;
    const watch = () => {
      if (++seen < k) return;
      queryWatchers.delete(watch);
      resolve();
    };
    queryWatchers.add(watch);
  });
}

async function team() {
  const { user, team } = await signUp({ email: `race-${uniq()}@example.com`, password: "correct horse battery", teamName: "Races" });
  return teamContextForUser(user, team.slug, "team:view");
}

async function license() {
  const ctx = await team();
  const slug = `race-${uniq()}`;
  await createApp(ctx, { name: "Race", slug });
  const c = await createCustomer(ctx, slug, { name: "Initech" });
  return { ctx, licenseRowId: c.license.id };
}

const events = (licenseRowId: string, action: string) => db.activityEvent.count({ where: { resourceId: licenseRowId, action } });

/** Fulfilled values and the codes of the rejections. */
function outcome<T>(results: PromiseSettledResult<T>[]) {
  const ok = results.filter((r): r is PromiseFulfilledResult<T> => r.status === "fulfilled").map((r) => r.value);
  const codes = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => (r.reason as { code?: string }).code ?? String(r.reason));
  return { ok, codes };
}

describe("revoke and restore under concurrency", () => {
  it(`${N} concurrent revokes: one succeeds, the others get 409, one event is written`, async () => {
    const { ctx, licenseRowId } = await license();
    const { ok, codes } = outcome(await Promise.allSettled(Array.from({ length: N }, (_, i) => revokeLicense(ctx, licenseRowId, `reason ${i}`))));
    expect(ok).toHaveLength(1);
    expect(codes).toEqual(Array(N - 1).fill("CONFLICT"));
    expect(await events(licenseRowId, "license.revoked")).toBe(1);
    // The stored reason is the winner's, not a loser's written over it.
    const row = await db.license.findUniqueOrThrow({ where: { id: licenseRowId } });
    expect(row.revokeReason).toBe(ok[0]!.revokeReason);
  });

  it(`${N} concurrent restores of a revoked license: one succeeds, one event`, async () => {
    const { ctx, licenseRowId } = await license();
    await revokeLicense(ctx, licenseRowId);
    const { ok, codes } = outcome(await Promise.allSettled(Array.from({ length: N }, () => restoreLicense(ctx, licenseRowId))));
    expect(ok).toHaveLength(1);
    expect(codes).toEqual(Array(N - 1).fill("CONFLICT"));
    expect(await events(licenseRowId, "license.restored")).toBe(1);
  });

  it(`revokes and restores interleaved (${N} each): every success is logged once and the log replays to the final state`, async () => {
    const { ctx, licenseRowId } = await license();
    const calls = Array.from({ length: 2 * N }, (_, i) => (i % 2 === 0 ? revokeLicense(ctx, licenseRowId) : restoreLicense(ctx, licenseRowId)));
    const results = await Promise.allSettled(calls);
    const revoked = results.filter((r, i) => i % 2 === 0 && r.status === "fulfilled").length;
    const restored = results.filter((r, i) => i % 2 === 1 && r.status === "fulfilled").length;
    expect(await events(licenseRowId, "license.revoked")).toBe(revoked);
    expect(await events(licenseRowId, "license.restored")).toBe(restored);
    // Strict alternation from "active": revoked - restored is 1 if it ends revoked, else 0.
    const row = await db.license.findUniqueOrThrow({ where: { id: licenseRowId } });
    expect(revoked - restored).toBe(row.revokedAt ? 1 : 0);
  });

  it(`${N} concurrent expiry changes: no lost update — every change logged replaced the one before it, the others 409`, async () => {
    const { ctx, licenseRowId } = await license();
    const dates = Array.from({ length: N }, (_, i) => new Date(Date.UTC(2030, 0, i + 1)));
    const { ok, codes } = outcome(await Promise.allSettled(dates.map((d) => setLicenseExpiry(ctx, licenseRowId, d))));
    // Usually one wins; a call that read after a winner committed may legitimately win next.
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(codes).toEqual(Array(N - ok.length).fill("CONFLICT"));
    const logged = await db.activityEvent.findMany({ where: { resourceId: licenseRowId, action: "license.expiry_changed" }, orderBy: { createdAt: "asc" } });
    expectChain(logged, "never", ok.length);
    const row = await db.license.findUniqueOrThrow({ where: { id: licenseRowId } });
    expect(JSON.parse(logged.at(-1)!.metadata)).toMatchObject({ to: row.expiresAt!.toISOString() });
  });
});

/**
 * The log of a contended conditional write: one event per success, and each
 * event's "from" is the previous one's "to" (the first's is `initial`), so no
 * success overwrote a value it had not read.
 */
function expectChain(logged: { metadata: string; createdAt: Date }[], initial: string, successes: number) {
  expect(logged).toHaveLength(successes);
  const changes = logged.map((e) => JSON.parse(e.metadata) as { from: string; to: string });
  // Events written in one millisecond sort arbitrarily: follow the chain instead of createdAt.
  let current = initial;
  const left = [...changes];
  while (left.length) {
    const next = left.findIndex((c) => c.from === current);
    expect(next, `no change from ${current} in ${JSON.stringify(changes)}`).toBeGreaterThanOrEqual(0);
    current = left.splice(next, 1)[0]!.to;
  }
}

describe("the slug lock under concurrency", () => {
  // Which side commits first depends on when the first licenses start relative
  // to the renames, so that start is swept over a clock of queries: app k's
  // first licenses start once k queries have run since its renames started,
  // from 0 (the licenses' shorter path commits first: renames get 409) to well
  // past the first rename's commit (creations by the old slug get 404). In
  // between lies the window that matters: a creation read the app before a
  // rename committed and writes after it. There only createCustomer's re-read
  // of the slug inside its transaction stops both from succeeding; without it
  // this test fails on SQLite (2 apps of the sweep) and on PostgreSQL (16-19).
  const R = 10; // renames, and as many first licenses, per app
  const SWEEP = 6 * R; // past the queries the renames send before the first commits (about 3 each)
  it(`a slug change racing the app's first license (${R} + ${R} calls on each of ${SWEEP + 1} apps, staggered): never both succeed`, async () => {
    expect(env().countDbQueries, "the query clock needs GANTRY_COUNT_DB_QUERIES=1 (vitest.config.ts sets it)").toBe(true);
    const ctx = await team();
    const firstWins: string[] = [];
    for (let k = 0; k <= SWEEP; k++) {
      const slug = `lock-${uniq()}`;
      const { id } = await createApp(ctx, { name: "Lock", slug });
      const clock = queriesFromNow(k);
      const renames = Array.from({ length: R }, (_, i) => updateApp(ctx, slug, { slug: `${slug}-r${i}` }));
      await Promise.race([clock, Promise.allSettled(renames)]);
      queryWatchers.clear();
      const creations = Array.from({ length: R }, (_, i) => createCustomer(ctx, slug, { name: `C${i}` }));
      // Both settled together: a creation may fail while the renames are still running.
      const [renameResults, creationResults] = await Promise.all([Promise.allSettled(renames), Promise.allSettled(creations)]);
      const renamed = outcome(renameResults);
      const created = outcome(creationResults);
      const where = `app ${k}: ${created.ok.length} first licenses, ${renamed.ok.length} renames`;
      // Every call names the app by its original slug: once renamed, creating is NOT_FOUND;
      // once licensed, renaming is CONFLICT. Whichever commits first, the other side loses.
      expect(created.ok.length === 0 || renamed.ok.length === 0, where).toBe(true);
      expect(renamed.ok.length, where).toBeLessThanOrEqual(1);
      const codes = [...renamed.codes, ...created.codes];
      expect(codes.every((c) => c === "CONFLICT" || c === "NOT_FOUND"), `${where}: ${codes.join(",")}`).toBe(true);
      const app = await db.app.findUniqueOrThrow({ where: { id } });
      const licenses = await db.license.count({ where: { appId: app.id } });
      expect(licenses, where).toBe(created.ok.length);
      expect(app.slug, where).toBe(licenses > 0 ? slug : (renamed.ok[0]?.slug ?? slug));
      expect((await getApp(ctx.team.id, app.slug)).slugLocked, where).toBe(licenses > 0);
      firstWins.push(created.ok.length > 0 ? "license" : renamed.ok.length > 0 ? "rename" : "none");
    }
    // The sweep spans both orders (else the window between them was not crossed).
    expect(new Set(firstWins), firstWins.join(",")).toEqual(new Set(["license", "rename"]));
  });

  it(`${N} concurrent creations of one new slug: one app, the others 409 (the unique index, not a 500)`, async () => {
    const ctx = await team();
    const slug = `dup-${uniq()}`;
    const { ok, codes } = outcome(await Promise.allSettled(Array.from({ length: N }, () => createApp(ctx, { name: "Dup", slug }))));
    expect(ok).toHaveLength(1);
    expect(codes).toEqual(Array(N - 1).fill("CONFLICT"));
    expect(await db.app.count({ where: { slug } })).toBe(1);
  });
});

describe("other conditional writes under concurrency", () => {
  it(`${N} concurrent pins of one license: one wins and is logged; none is lost half-merged`, async () => {
    const { ctx, licenseRowId } = await license();
    const { ok, codes } = outcome(
      await Promise.allSettled(Array.from({ length: N }, (_, i) => (i % 2 === 0 ? setLicensePin(ctx, licenseRowId, { maxVersion: `1.${i}.0` }) : setLicensePin(ctx, licenseRowId, { releasedBefore: new Date(Date.UTC(2030, 0, i + 1)) })))),
    );
    // Usually one wins; a call that read after a winner committed may legitimately win next (never half-merged).
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(codes).toEqual(Array(N - ok.length).fill("CONFLICT"));
    expect(await events(licenseRowId, "license.pinned")).toBe(ok.length);
  });

  it(`${N} concurrent pattern changes of one app: no lost update — each logged "from" is what it replaced`, async () => {
    const ctx = await team();
    const slug = `pat-${uniq()}`;
    const app = await createApp(ctx, { name: "Patterns", slug });
    const { ok, codes } = outcome(await Promise.allSettled(Array.from({ length: N }, (_, i) => setExtraPatterns(ctx, slug, [`docker.io/acme/p${i}`]))));
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(codes).toEqual(Array(N - ok.length).fill("CONFLICT"));
    const logged = await db.activityEvent.findMany({ where: { resourceId: app.id, action: "app.patterns_changed" }, orderBy: { createdAt: "asc" } });
    expectChain(logged, "none", ok.length);
  });

  it(`${N} concurrent revokes of one API token: one revocation logged`, async () => {
    const ctx = await team();
    const { id } = await createApiToken(ctx, { name: "ci" });
    const results = await Promise.all(Array.from({ length: N }, () => revokeApiToken(ctx, id)));
    expect(results.every((r) => r.revokedAt !== null)).toBe(true);
    expect(await db.activityEvent.count({ where: { resourceId: id, action: "api_token.revoked" } })).toBe(1);
  });
});
