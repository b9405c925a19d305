import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
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

  it(`${N} concurrent expiry changes: one wins, the others 409; the log's "from" is what it replaced`, async () => {
    const { ctx, licenseRowId } = await license();
    const dates = Array.from({ length: N }, (_, i) => new Date(Date.UTC(2030, 0, i + 1)));
    const { ok, codes } = outcome(await Promise.allSettled(dates.map((d) => setLicenseExpiry(ctx, licenseRowId, d))));
    expect(ok).toHaveLength(1);
    expect(codes).toEqual(Array(N - 1).fill("CONFLICT"));
    const logged = await db.activityEvent.findMany({ where: { resourceId: licenseRowId, action: "license.expiry_changed" } });
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0]!.metadata)).toMatchObject({ from: "never", to: ok[0]!.expiresAt!.toISOString() });
  });
});

describe("the slug lock under concurrency", () => {
  it(`a slug change racing the app's first license (${N} + ${N} calls): never both succeed`, async () => {
    // Which side reaches the database first depends on timing: the renames start
    // first and the first licenses follow at once or after an event-loop turn,
    // so both orders are raced (a license first: renames get 409; a rename
    // first: creations by the old slug get 404).
    for (let round = 0; round < 6; round++) {
      const ctx = await team();
      const slug = `lock-${uniq()}`;
      await createApp(ctx, { name: "Lock", slug });
      const calls: Promise<PromiseSettledResult<"customer" | "rename">>[] = [];
      const settle = (p: Promise<unknown>, kind: "customer" | "rename") =>
        calls.push(p.then(() => ({ status: "fulfilled" as const, value: kind }), (reason: unknown) => ({ status: "rejected" as const, reason })));
      for (let i = 0; i < N; i++) settle(updateApp(ctx, slug, { slug: `${slug}-r${i}` }), "rename");
      for (let t = 0; t < round % 3; t++) await new Promise((r) => setImmediate(r));
      for (let i = 0; i < N; i++) settle(createCustomer(ctx, slug, { name: `C${i}` }), "customer");
      const { ok, codes } = outcome(await Promise.all(calls));
      const customers = ok.filter((o) => o === "customer").length;
      const renames = ok.filter((o) => o === "rename").length;
      // Every call names the app by its original slug: once renamed, creating is NOT_FOUND;
      // once licensed, renaming is CONFLICT. Whichever commits first, the other side loses.
      expect(customers === 0 || renames === 0, `customers ${customers}, renames ${renames}`).toBe(true);
      expect(renames).toBeLessThanOrEqual(1);
      expect(codes.every((c) => c === "CONFLICT" || c === "NOT_FOUND"), codes.join(",")).toBe(true);
      const app = await db.app.findFirstOrThrow({ where: { teamId: ctx.team.id } });
      const licenses = await db.license.count({ where: { appId: app.id } });
      expect(licenses).toBe(customers);
      if (licenses > 0) expect(app.slug).toBe(slug);
      expect((await getApp(ctx.team.id, app.slug)).slugLocked).toBe(licenses > 0);
    }
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
    expect(ok).toHaveLength(1);
    expect(codes).toEqual(Array(N - 1).fill("CONFLICT"));
    expect(await events(licenseRowId, "license.pinned")).toBe(1);
  });

  it(`${N} concurrent pattern changes of one app: one wins, its "from" is what it replaced`, async () => {
    const ctx = await team();
    const slug = `pat-${uniq()}`;
    const app = await createApp(ctx, { name: "Patterns", slug });
    const { ok, codes } = outcome(await Promise.allSettled(Array.from({ length: N }, (_, i) => setExtraPatterns(ctx, slug, [`docker.io/acme/p${i}`]))));
    expect(ok).toHaveLength(1);
    expect(codes).toEqual(Array(N - 1).fill("CONFLICT"));
    const logged = await db.activityEvent.findMany({ where: { resourceId: app.id, action: "app.patterns_changed" } });
    expect(logged.map((e) => JSON.parse(e.metadata) as { from: string })).toEqual([expect.objectContaining({ from: "none" })]);
  });

  it(`${N} concurrent revokes of one API token: one revocation logged`, async () => {
    const ctx = await team();
    const { id } = await createApiToken(ctx, { name: "ci" });
    const results = await Promise.all(Array.from({ length: N }, () => revokeApiToken(ctx, id)));
    expect(results.every((r) => r.revokedAt !== null)).toBe(true);
    expect(await db.activityEvent.count({ where: { resourceId: id, action: "api_token.revoked" } })).toBe(1);
  });
});
