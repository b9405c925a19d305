import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { db } from "@/lib/db";
import { appDomainProblems, appDomains, setAppDomains } from "@/lib/domains/app-domains";
import { recheckDue } from "@/lib/domains/check";
import { addDomain, allDomains, deleteDomain, getDomain, listDomains, setDefaultDomain, verifyDomain } from "@/lib/domains/domains";
import { domainForHost, forgetServedDomains, isVerifiedDomain } from "@/lib/domains/served";
import { resetEnvForTests } from "@/lib/env";
import { isAppError } from "@/lib/errors";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startTestDnsServer, type TestDnsServer } from "@/lib/testing/dns-server";

/**
 * Custom domains against a real DNS server (dns2 on loopback, reached through
 * GANTRY_DNS_SERVERS): claims, verification, the re-check that fails a domain
 * after two consecutive misses (and not on a DNS error), and what apps use.
 */
let dns: TestDnsServer;
let a: TeamContext;
let b: TeamContext;
const stamp = Date.now().toString(36);
const name = (label: string) => `${label}-${stamp}.acme.test`;
const HOUR = 3600_000;

async function team(label: string) {
  const { user, team } = await signUp({ email: `${label}-${stamp}@example.com`, password: "correct horse battery", teamName: label });
  return teamContextForUser(user, team.slug, "team:view");
}
const code = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => (isAppError(e) ? e.code : String(e)));
const publish = (domain: { name: string; verification: { value: string } }) => dns.set(`_gantry-challenge.${domain.name}`, "TXT", ["v=spf1 -all", domain.verification.value]);
const unpublish = (domain: { name: string }) => dns.remove(`_gantry-challenge.${domain.name}`);

beforeAll(async () => {
  dns = await startTestDnsServer();
  process.env.GANTRY_DNS_SERVERS = dns.address;
  resetEnvForTests();
  // The proxy's public host (GANTRY_PROXY_URL: gantry.test) resolves to 127.0.0.1.
  dns.set("gantry.test", "A", ["127.0.0.1"]);
  [a, b] = await Promise.all([team("Acme"), team("Globex")]);
});
afterAll(async () => {
  delete process.env.GANTRY_DNS_SERVERS;
  resetEnvForTests();
  await dns.close();
});
beforeEach(() => {
  dns.mode = "ok";
});

describe("claiming a name", () => {
  it("adds a pending domain with a random TXT token and the host it must point at", async () => {
    const d = await addDomain(a, { name: `Images-${stamp}.Acme.TEST.`, service: "proxy" });
    expect(d).toMatchObject({ name: name("images"), service: "proxy", status: "pending", verification: { type: "TXT", name: `_gantry-challenge.${name("images")}` }, target: { value: "gantry.test" }, checkedAt: null });
    expect(d.verification.value).toMatch(/^gantry-verify=[A-Za-z0-9_-]{27}$/);
    const other = await addDomain(a, { name: name("other"), service: "registry" });
    expect(other.verification.value).not.toBe(d.verification.value);
    expect(other.target.value).toBe("registry.vendor.test");
    expect((await listDomains(a.team.id)).map((x) => x.name)).toEqual(expect.arrayContaining([name("images"), name("other")]));
  });

  it("lets only owners and admins change domains, whoever calls the library", async () => {
    const member = { ...a, role: "member" as const };
    expect(await code(addDomain(member, { name: name("member"), service: "proxy" }))).toBe("FORBIDDEN");
    const d = await addDomain(a, { name: name("member"), service: "proxy" });
    for (const call of [verifyDomain(member, d.id), deleteDomain(member, d.id), setDefaultDomain(member, d.id, true), setAppDomains(member, "x", { proxyDomain: null })]) expect(await code(call)).toBe("FORBIDDEN");
    expect((await getDomain(a.team.id, d.id)).name).toBe(name("member"));
  });

  it("refuses Gantry's own host names and their subdomains, and names that are not domain names", async () => {
    for (const n of ["gantry.test", "x.gantry.test", "registry.vendor.test", "a.b.registry.vendor.test", "localhost", "10.0.0.1", "*.acme.test", "acme.test:443", "https://acme.test", "-x.acme.test"]) {
      expect(await code(addDomain(a, { name: n, service: "proxy" })), n).toBe("VALIDATION");
    }
  });

  it("gives a name to one team: a second team's claim is 409 whether the first is pending or verified, until a pending claim lapses after 7 days", async () => {
    const pending = await addDomain(a, { name: name("claimed"), service: "proxy" });
    expect(await code(addDomain(b, { name: name("claimed"), service: "proxy" }))).toBe("CONFLICT");
    expect(await code(addDomain(a, { name: name("claimed"), service: "registry" }))).toBe("CONFLICT");
    publish(pending);
    expect((await verifyDomain(a, pending.id)).status).toBe("verified");
    expect(await code(addDomain(b, { name: name("claimed"), service: "proxy" }))).toBe("CONFLICT");

    const lapsing = await addDomain(a, { name: name("lapsing"), service: "proxy" });
    await db.domain.update({ where: { id: lapsing.id }, data: { createdAt: new Date(Date.now() - 8 * 24 * HOUR) } });
    const taken = await addDomain(b, { name: name("lapsing"), service: "proxy" });
    expect(taken.status).toBe("pending");
    expect(await code(getDomain(a.team.id, lapsing.id))).toBe("NOT_FOUND");
    expect(await code(getDomain(a.team.id, taken.id))).toBe("NOT_FOUND"); // another team's domain is a 404
  });

  it("lets one of two teams racing for a free name have it, and answers the other 409", async () => {
    const results = await Promise.all([code(addDomain(a, { name: name("race"), service: "proxy" })), code(addDomain(b, { name: name("race"), service: "proxy" }))]);
    expect(results.sort()).toEqual(["CONFLICT", "ok"]);
  });
});

describe("verification by DNS", () => {
  it("stays pending while the TXT record is missing, verifies when it appears, and warns when the name points elsewhere", async () => {
    const d = await addDomain(a, { name: name("verify"), service: "proxy" });
    const missing = await verifyDomain(a, d.id);
    expect(missing).toMatchObject({ status: "pending", message: expect.stringContaining("No TXT record") });
    expect(missing.checkedAt).not.toBeNull();
    dns.set(name("verify"), "A", ["192.0.2.7"]);
    publish(d);
    const ok = await verifyDomain(a, d.id);
    expect(ok).toMatchObject({ status: "verified", target: { ok: false }, message: expect.stringMatching(/Verified.*points elsewhere \(192\.0\.2\.7\), not at gantry\.test/) });
    dns.set(name("verify"), "CNAME", ["gantry.test"]);
    expect(await verifyDomain(a, d.id)).toMatchObject({ status: "verified", target: { ok: true } });
    expect(await db.activityEvent.count({ where: { teamId: a.team.id, action: "domain.verified", resourceId: d.id } })).toBe(1);
  });

  it("fails a verified domain after two consecutive misses (warning first), logs it, stops serving it, and re-verifies when the record returns", async () => {
    const d = await addDomain(a, { name: name("vanish"), service: "proxy" });
    publish(d);
    await verifyDomain(a, d.id);
    forgetServedDomains();
    expect(await isVerifiedDomain(d.name)).toBe(true);
    unpublish(d);
    const t0 = new Date();
    const first = await verifyDomain(a, d.id, t0);
    expect(first.status).toBe("verified");
    expect(first.warning).toMatch(new RegExp(`stops being served, and pull secrets for it stop working, in 24 hours unless the record returns`));
    // The scheduled re-check 24 h later misses it again.
    const report = await recheckDue(new Date(t0.getTime() + 24 * HOUR + 1000));
    expect(report.failed).toBeGreaterThanOrEqual(1);
    const failed = await getDomain(a.team.id, d.id);
    expect(failed).toMatchObject({ status: "failed", warning: null, message: expect.stringContaining("no longer served") });
    expect(await db.activityEvent.count({ where: { teamId: a.team.id, action: "domain.failed", resourceId: d.id } })).toBe(1);
    expect(await isVerifiedDomain(d.name)).toBe(false);
    expect((await domainForHost(`${d.name}:443`))?.status).toBe("failed");

    publish(d);
    expect((await verifyDomain(a, d.id)).status).toBe("verified");
    expect(await isVerifiedDomain(d.name)).toBe(true);
  });

  it("keeps the state on a DNS error (SERVFAIL, timeout): no miss is counted", async () => {
    const d = await addDomain(a, { name: name("flaky"), service: "proxy" });
    publish(d);
    const verified = await verifyDomain(a, d.id);
    for (const mode of ["servfail", "timeout"] as const) {
      dns.mode = mode;
      const after = await verifyDomain(a, d.id);
      expect(after).toMatchObject({ status: "verified", checkedAt: verified.checkedAt, warning: null });
      expect(after.message).toMatch(mode === "servfail" ? /ESERVFAIL/ : /ETIMEOUT/);
    }
    dns.mode = "servfail";
    const pending = await addDomain(a, { name: name("flaky-pending"), service: "proxy" });
    expect((await verifyDomain(a, pending.id)).status).toBe("pending");
    dns.mode = "ok";
    unpublish(d);
    await verifyDomain(a, d.id);
    dns.mode = "timeout";
    await verifyDomain(a, d.id);
    dns.mode = "ok";
    // One miss, then an error: still one miss.
    expect((await db.domain.findUniqueOrThrow({ where: { id: d.id } })).misses).toBe(1);
  }, 30_000);

  it("re-checks each due domain once when several servers tick at once (conditional claims)", async () => {
    const d = await addDomain(a, { name: name("tick"), service: "proxy" });
    publish(d);
    await verifyDomain(a, d.id);
    const later = new Date(Date.now() + 25 * HOUR);
    const before = dns.queries.filter((q) => q === `_gantry-challenge.${d.name} TXT`).length;
    await Promise.all([recheckDue(later), recheckDue(later), recheckDue(later)]);
    expect(dns.queries.filter((q) => q === `_gantry-challenge.${d.name} TXT`).length - before).toBe(1);
    const row = await db.domain.findUniqueOrThrow({ where: { id: d.id } });
    expect(row.nextCheckAt.getTime()).toBe(later.getTime() + 24 * HOUR);
  });

  it("drops pending claims older than 7 days on the tick", async () => {
    const d = await addDomain(b, { name: name("stale"), service: "registry" });
    await db.domain.update({ where: { id: d.id }, data: { createdAt: new Date(Date.now() - 8 * 24 * HOUR) } });
    expect((await recheckDue()).expiredClaims).toBeGreaterThanOrEqual(1);
    expect(await code(getDomain(b.team.id, d.id))).toBe("NOT_FOUND");
    expect(await db.activityEvent.count({ where: { teamId: b.team.id, action: "domain.expired", resourceId: d.id } })).toBe(1);
  });
});

describe("the domains an app uses", () => {
  it("uses the app's verified pick, else the team default, else Gantry's own URL; a failed or deleted pick falls back", async () => {
    const app = await createApp(a, { name: "Domains", slug: `dom-${stamp}` });
    expect(await appDomains(a.team.id, app.id)).toMatchObject({ proxy: { host: "gantry.test:8443", domain: null }, registry: { host: "registry.vendor.test", domain: null } });

    const pick = await addDomain(a, { name: name("pick"), service: "proxy" });
    const def = await addDomain(a, { name: name("default"), service: "proxy" });
    const reg = await addDomain(a, { name: name("reg"), service: "registry" });
    expect(await code(setAppDomains(a, app.slug, { proxyDomain: pick.name }))).toBe("VALIDATION"); // not verified yet
    for (const d of [pick, def, reg]) {
      publish(d);
      await verifyDomain(a, d.id);
    }
    expect(await code(setAppDomains(a, app.slug, { proxyDomain: reg.name }))).toBe("VALIDATION"); // the other face
    expect(await code(setAppDomains(b, app.slug, { proxyDomain: pick.name }))).toBe("NOT_FOUND"); // another team's app
    await setDefaultDomain(a, def.id, true);
    expect((await appDomains(a.team.id, app.id)).proxy).toEqual({ scheme: "https", host: def.name, origin: `https://${def.name}`, domain: def.name });
    expect(await setAppDomains(a, app.slug, { proxyDomain: pick.name, registryDomain: reg.name })).toEqual({ proxyDomain: pick.name, registryDomain: reg.name });
    expect(await appDomains(a.team.id, app.id)).toMatchObject({ proxy: { host: pick.name }, registry: { host: reg.name, scheme: "https" } });

    expect(await appDomainProblems(a.team.id, app.id)).toEqual([]);
    await db.domain.update({ where: { id: reg.id }, data: { misses: 1, nextCheckAt: new Date(Date.now() + 5 * HOUR) } });
    expect(await appDomainProblems(a.team.id, app.id)).toEqual([expect.stringMatching(/in 5 hours unless the record returns/)]);
    await db.domain.update({ where: { id: pick.id }, data: { status: "failed" } });
    expect(await appDomainProblems(a.team.id, app.id)).toEqual([expect.stringContaining(`${pick.name} failed`), expect.stringMatching(/in 5 hours/)]);
    expect((await appDomains(a.team.id, app.id)).proxy.host).toBe(def.name);
    await deleteDomain(a, def.id);
    expect((await appDomains(a.team.id, app.id)).proxy.host).toBe("gantry.test:8443");
    expect((await appDomains(a.team.id, app.id)).registry?.host).toBe(reg.name);
    await setAppDomains(a, app.slug, { registryDomain: null });
    expect((await appDomains(a.team.id, app.id)).registry?.host).toBe("registry.vendor.test");
  });

  it("lists every team's domains for the operator, or only the verified ones", async () => {
    const all = await allDomains();
    const verified = await allDomains({ verifiedOnly: true });
    expect(all.length).toBeGreaterThan(verified.length);
    expect(verified.every((d) => d.status === "verified")).toBe(true);
    expect(verified.find((d) => d.name === name("claimed"))).toMatchObject({ service: "proxy", team: a.team.slug });
  });
});
