import { unzipSync, strFromU8 } from "fflate";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp, updateApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { createCustomer, revokeLicense } from "@/lib/licenses/customers";
import { createRelease } from "@/lib/releases/releases";
import { archiveRelease } from "@/lib/releases/releases";
import { setLicensePin } from "@/lib/releases/scope";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { customerBundle, customerLicenseFile, customerView } from "./portal";
import { installSession, readSessionCookie, sessionCookieValue, signInWithLicense, SESSION_SECONDS } from "./session";

/**
 * The customer's install page, below the browser: sign-in with a license ID
 * (rate-limited, never stored in the cookie), what a license sees (its pin,
 * archived releases, its state), and that nothing of another license is
 * reachable through a session.
 */
let ctx: TeamContext;
const stamp = Date.now().toString(36);
const slug = `inst-${stamp}`;
const ids = { paid: "", paidRow: "", pinned: "", pinnedRow: "", revoked: "", revokedRow: "" };

beforeAll(async () => {
  const { user, team } = await signUp({ email: `inst-${stamp}@example.com`, password: "correct horse battery staple", teamName: "Install" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Install Suite", slug });
  for (const version of ["1.0.0", "1.1.0", "2.0.0"]) await createRelease(ctx, slug, { version, notes: `Notes ${version}`, images: [`${env().registryDomain}/${slug}/api:${version}`] });
  await archiveRelease(ctx, slug, "1.1.0");
  const paid = await createCustomer(ctx, slug, { name: "Paid Co" });
  const pinned = await createCustomer(ctx, slug, { name: "Pinned Co", type: "trial" });
  const revoked = await createCustomer(ctx, slug, { name: "Gone Co" });
  Object.assign(ids, {
    paid: paid.license.licenseId,
    paidRow: paid.license.id,
    pinned: pinned.license.licenseId,
    pinnedRow: pinned.license.id,
    revoked: revoked.license.licenseId,
    revokedRow: revoked.license.id,
  });
  await setLicensePin(ctx, ids.pinnedRow, { maxVersion: "1.0.0" });
  await revokeLicense(ctx, ids.revokedRow, "left");
}, 120_000);

const ip = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}`;

async function sessionFor(licenseId: string) {
  const r = await signInWithLicense(licenseId, ip());
  if (!r.ok) throw new Error(r.message);
  const s = await installSession(r.cookie);
  if (!s) throw new Error("no session");
  return { cookie: r.cookie, session: s };
}

describe("signing in with a license ID", () => {
  it("sets a cookie that names the license row, not the ID, and that a forger cannot make", async () => {
    const { cookie, session } = await sessionFor(ids.paid);
    expect(cookie).not.toContain(ids.paid);
    expect(cookie.startsWith(`${ids.paidRow}.`)).toBe(true);
    expect(session).toMatchObject({ licenseRowId: ids.paidRow });
    const [, issued, sig] = cookie.split(".");
    expect(await installSession(`${ids.pinnedRow}.${issued}.${sig}`)).toBeNull(); // another row under this signature
    expect(await installSession(`${ids.paidRow}.${issued}.${"A".repeat(sig!.length)}`)).toBeNull();
    expect(readSessionCookie(sessionCookieValue(ids.paidRow, new Date(Date.now() - (SESSION_SECONDS + 5) * 1000)))).toBeNull(); // too old
  });

  it("refuses what is not a license ID and an unknown one, and counts failures per address", async () => {
    const from = ip();
    expect(await signInWithLicense("not a license", from)).toMatchObject({ ok: false, reason: "invalid" });
    expect(await signInWithLicense(ids.paid.replace(/.$/, (c) => (c === "a" ? "b" : "a")), from)).toMatchObject({ ok: false, reason: "unknown" });
    let last = await signInWithLicense("x".repeat(10), from);
    for (let i = 0; i < 20 && last.ok === false && last.reason !== "rate_limited"; i++) last = await signInWithLicense("x".repeat(10), from);
    expect(last).toMatchObject({ ok: false, reason: "rate_limited" });
    // Once limited, even the right ID waits: the page is no faster an oracle than the registry.
    expect(await signInWithLicense(ids.paid, from)).toMatchObject({ ok: false, reason: "rate_limited" });
    expect((await signInWithLicense(ids.paid, ip())).ok).toBe(true);
  });

  it("a vendor turning the page off refuses sign-ins and ends sessions", async () => {
    const { cookie } = await sessionFor(ids.paid);
    await updateApp(ctx, slug, { installPage: false });
    try {
      expect(await signInWithLicense(ids.paid, ip())).toMatchObject({ ok: false, reason: "page_off" });
      expect(await installSession(cookie)).toBeNull();
    } finally {
      await updateApp(ctx, slug, { installPage: true });
    }
    expect(await installSession(cookie)).not.toBeNull();
  });
});

describe("what a license sees", () => {
  it("an unpinned license: every release that is not archived, newest first, with its commands", async () => {
    const view = await customerView((await sessionFor(ids.paid)).session);
    expect(view.customer).toBe("Paid Co");
    expect(view.license).toMatchObject({ state: "active", type: "paid", pin: null });
    expect(view.releases.map((r) => r.version)).toEqual(["2.0.0", "1.0.0"]);
    expect(view.releases[0]!.commands.kubectl).toBe(`unzip ${slug}-2.0.0.zip -d ${slug}-2.0.0 && kubectl apply -k ${slug}-2.0.0/overlays/midstream`);
    expect(JSON.stringify(view)).not.toContain(ids.paid);
  });

  it("a pinned license sees only its releases, and another release's bundle is not found", async () => {
    const { session } = await sessionFor(ids.pinned);
    const view = await customerView(session);
    expect(view.license).toMatchObject({ type: "trial", pin: "up to 1.0.0" });
    expect(view.releases.map((r) => r.version)).toEqual(["1.0.0"]);
    const bundle = await customerBundle(session, "1.0.0");
    const files = unzipSync(bundle.zip);
    expect(strFromU8(files["overlays/midstream/secret.yaml"]!)).toContain(Buffer.from(ids.pinned).toString("base64").slice(0, 8));
    await expect(customerBundle(session, "2.0.0")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(customerBundle(session, "1.1.0")).rejects.toMatchObject({ code: "NOT_FOUND" }); // archived
    await expect(customerBundle(session, "../1.0.0")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await customerLicenseFile(session)).yaml).toContain("Pinned Co");
  });

  it("a revoked license signs in to see its state, with no release and no bundle", async () => {
    const { session } = await sessionFor(ids.revoked);
    const view = await customerView(session);
    expect(view.license.state).toBe("revoked");
    expect(view.releases).toEqual([]);
    await expect(customerBundle(session, "2.0.0")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("shows the license's own pulls per day, and none of another license's", async () => {
    const app = await db.app.findUniqueOrThrow({ where: { slug }, select: { id: true, teamId: true } });
    const at = new Date();
    const event = (licenseId: string, reference: string) => ({ teamId: app.teamId, appId: app.id, licenseId, repository: "acme/api", kind: "manifests", reference, method: "GET", status: 200, bytesSent: 1234n, durationMs: 3, createdAt: at });
    await db.pullEvent.createMany({ data: [event(ids.paidRow, "mine-1"), event(ids.paidRow, "mine-2"), event(ids.pinnedRow, "theirs")] });
    const view = await customerView((await sessionFor(ids.paid)).session);
    expect(view.pulls.map((p) => p.reference).sort()).toEqual(["mine-1", "mine-2"]);
    expect(view.daily).toHaveLength(14);
    expect(view.daily.at(-1)).toEqual({ day: at.toISOString().slice(0, 10), requests: 2, bytes: 2468 });
  });
});

describe("daily pulls", () => {
  it("buckets by UTC day over 14 days, zero days included, older rows left out", async () => {
    const c = await createCustomer(ctx, slug, { name: "Daily Co" });
    const app = await db.app.findUniqueOrThrow({ where: { slug }, select: { id: true, teamId: true } });
    // Dated a month ahead: the database is shared with the retention tests, which purge rows older than a day.
    const today = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 30));
    const day = 86_400_000;
    const at = (t: number, bytes: bigint) => ({ teamId: app.teamId, appId: app.id, licenseId: c.license.id, repository: "acme/api", kind: "blobs", reference: String(t), method: "GET", status: 200, bytesSent: bytes, durationMs: 1, createdAt: new Date(t) });
    const t0 = today.getTime();
    await db.pullEvent.createMany({ data: [at(t0, 5n), at(t0 - 13 * day + day - 1000, 1n), at(t0 - 14 * day + day / 2, 9n)] });
    const session = (await sessionFor(c.license.licenseId)).session;
    const days = (await customerView(session, new Date(t0 + 10 * 3600_000))).daily;
    const iso = (t: number) => new Date(t).toISOString().slice(0, 10);
    expect(days).toHaveLength(14);
    expect(days[0]).toEqual({ day: iso(t0 - 13 * day), requests: 1, bytes: 1 });
    expect(days.at(-1)).toEqual({ day: iso(t0), requests: 1, bytes: 5 });
    expect(days.reduce((n, d) => n + d.requests, 0)).toBe(2);
  });
});
