import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { isPostgresUrl } from "@/lib/db-provider";
import { signUp } from "@/lib/auth/sign-up";
import { createApp, getApp, updateApp } from "@/lib/apps/apps";
import {
  createCustomer,
  findLicenseByKey,
  getCustomer,
  licenseFile,
  listCustomers,
  restoreLicense,
  revealLicenseId,
  revokeLicense,
  setLicenseExpiry,
} from "@/lib/licenses/customers";
import { createdCustomerBody, findLicense } from "@/lib/licenses/api";
import { verifyLicenseFile } from "@/lib/licenses/license-file";
import { decidePull } from "@/lib/licenses/pull-decision";
import { teamSigningKey } from "@/lib/licenses/signing-key";
import { teamContextForUser } from "@/lib/teams/access";

let n = 0;
const uniq = () => `${Date.now().toString(36)}${n++}`;

async function team(role: "owner" | "member" = "owner") {
  const { user, team } = await signUp({ email: `lic-${uniq()}@example.com`, password: "correct horse battery", teamName: "Licenses" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  return role === "owner" ? ctx : { ...ctx, role };
}

describe("apps", () => {
  it("creates apps with globally unique slugs (409 for a taken one, even in another team)", async () => {
    const a = await team();
    const b = await team();
    const slug = `acme-${uniq()}`;
    await createApp(a, { name: "Acme", slug });
    await expect(createApp(b, { name: "Other", slug })).rejects.toMatchObject({ code: "CONFLICT", fields: { slug: [expect.stringMatching(/taken/)] } });
    await expect(createApp(a, { name: "Bad", slug: "proxy" })).rejects.toThrow(/reserved/);
    await expect(getApp(b.team.id, slug)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("lets the slug change until the first license, then locks it", async () => {
    const ctx = await team();
    const slug = `lock-${uniq()}`;
    await createApp(ctx, { name: "Lock", slug });
    const renamed = await updateApp(ctx, slug, { slug: `${slug}-x` });
    expect(renamed.slug).toBe(`${slug}-x`);
    await createCustomer(ctx, renamed.slug, { name: "First" });
    expect((await getApp(ctx.team.id, renamed.slug)).slugLocked).toBe(true);
    await expect(updateApp(ctx, renamed.slug, { slug: `${slug}-y` })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/locked/) });
    const named = await updateApp(ctx, renamed.slug, { name: "Still editable", additionalNamespaces: ["monitoring", "*", "monitoring"] });
    expect(named).toMatchObject({ name: "Still editable", additionalNamespaces: ["monitoring", "*"] });
    await expect(updateApp(ctx, renamed.slug, { additionalNamespaces: ["Bad_NS"] })).rejects.toThrow(/Kubernetes name/);
  });
});

describe("customers and licenses", () => {
  it("issues a 192-bit license ID, stores only its hash and ciphertext, and reveals it to managers", async () => {
    const ctx = await team();
    const slug = `issue-${uniq()}`;
    await createApp(ctx, { name: "Issue", slug });
    const c = await createCustomer(ctx, slug, { name: "Globex", email: "Ops@Globex.example", type: "trial", expiresAt: "2099-01-31" });
    expect(c.license.licenseId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(c.license).toMatchObject({ state: "active", fingerprint: expect.stringMatching(/^[0-9a-f]{8}$/) });
    expect(c.email).toBe("ops@globex.example");
    const row = await db.license.findUniqueOrThrow({ where: { id: c.license.id } });
    expect(JSON.stringify(row)).not.toContain(c.license.licenseId);
    if (!isPostgresUrl(env().databaseUrl)) {
      // The SQLite file's bytes (a PostgreSQL cluster's files are not the test's to read).
      const file = env().databaseUrl.replace(/^file:/, "");
      expect(fs.readFileSync(file).includes(Buffer.from(c.license.licenseId))).toBe(false);
    }
    expect(await revealLicenseId(ctx.team.id, c.license.id)).toBe(c.license.licenseId);
    expect((await findLicenseByKey(ctx.team.id, c.license.licenseId)).id).toBe(c.license.id);
  });

  it("revokes and restores with who and why, logged; the pull decision follows at once", async () => {
    const ctx = await team();
    const slug = `rev-${uniq()}`;
    await createApp(ctx, { name: "Rev", slug });
    const c = await createCustomer(ctx, slug, { name: "Initech" });
    expect(await decidePull(c.license.licenseId, slug)).toMatchObject({ allow: true });
    const revoked = await revokeLicense(ctx, c.license.id, "unpaid invoice");
    expect(revoked).toMatchObject({ state: "revoked", revokeReason: "unpaid invoice", revokedByLabel: ctx.actor.label });
    expect(await decidePull(c.license.licenseId, slug)).toMatchObject({ allow: false, reason: "revoked" });
    await expect(revokeLicense(ctx, c.license.id)).rejects.toMatchObject({ code: "CONFLICT" });
    await restoreLicense(ctx, c.license.id);
    expect(await decidePull(c.license.licenseId, slug)).toMatchObject({ allow: true });
    const actions = (await db.activityEvent.findMany({ where: { teamId: ctx.team.id, resourceType: "license" }, orderBy: { createdAt: "asc" } })).map((e) => e.action);
    expect(actions).toEqual(["license.revoked", "license.restored"]);
  });

  it("denies unknown licenses, licenses of another app, and expired ones; extending takes effect at once", async () => {
    const ctx = await team();
    const a = `pa-${uniq()}`;
    const b = `pb-${uniq()}`;
    await createApp(ctx, { name: "A", slug: a });
    await createApp(ctx, { name: "B", slug: b });
    const c = await createCustomer(ctx, a, { name: "Hooli", type: "trial", expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(await decidePull("A".repeat(32), a)).toMatchObject({ allow: false, reason: "unknown_license" });
    expect(await decidePull("not a license", a)).toMatchObject({ allow: false, reason: "unknown_license" });
    expect(await decidePull(c.license.licenseId, b)).toMatchObject({ allow: false, reason: "wrong_app" });
    expect(await decidePull(c.license.licenseId, a)).toMatchObject({ allow: false, reason: "expired" });
    await setLicenseExpiry(ctx, c.license.id, new Date(Date.now() + 86_400_000));
    expect(await decidePull(c.license.licenseId, a)).toMatchObject({ allow: true });
    expect((await getCustomer(ctx.team.id, c.id)).license).toMatchObject({ state: "active", daysLeft: 0 });
  });

  it("is scoped to the team: another team's customer and license are NOT_FOUND", async () => {
    const a = await team();
    const b = await team();
    const slug = `ten-${uniq()}`;
    await createApp(a, { name: "T", slug });
    const c = await createCustomer(a, slug, { name: "Umbrella" });
    await expect(getCustomer(b.team.id, c.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(findLicenseByKey(b.team.id, c.license.licenseId)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(revokeLicense(b, c.license.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(createCustomer(b, slug, { name: "Sneaky" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await getCustomer(a.team.id, c.id)).license.state).toBe("active");
  });

  it("the API addresses a license by row id or fingerprint, refuses a license ID before looking it up, and is team-scoped", async () => {
    const a = await team();
    const b = await team();
    const slug = `addr-${uniq()}`;
    await createApp(a, { name: "Addr", slug });
    const c = await createCustomer(a, slug, { name: "Cyberdyne" });
    const d = await createCustomer(a, slug, { name: "Tyrell" });
    const body = createdCustomerBody(c);
    expect(body.license).toEqual({ id: c.license.id, fingerprint: c.license.fingerprint, licenseId: c.license.licenseId, state: "active", expiresAt: null });

    expect(await findLicense(a.team.id, c.license.id)).toEqual({ id: c.license.id, customerId: c.id });
    expect(await findLicense(a.team.id, c.license.fingerprint)).toEqual({ id: c.license.id, customerId: c.id });
    expect(await findLicense(a.team.id, c.license.fingerprint.toUpperCase())).toEqual({ id: c.license.id, customerId: c.id });

    const spy = vi.spyOn(db.license, "findFirst");
    const spyMany = vi.spyOn(db.license, "findMany");
    await expect(findLicense(a.team.id, c.license.licenseId)).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/never by the license ID/) });
    expect(spy).not.toHaveBeenCalled();
    expect(spyMany).not.toHaveBeenCalled();
    vi.restoreAllMocks();

    await expect(findLicense(b.team.id, c.license.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(findLicense(b.team.id, c.license.fingerprint)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(findLicense(a.team.id, "cnotalicenseid000000000000")).rejects.toMatchObject({ code: "NOT_FOUND" });

    // 8 hex digits are not unique: two of a team's licenses sharing one is a conflict naming the way out.
    await db.license.update({ where: { id: d.license.id }, data: { fingerprint: c.license.fingerprint } });
    await expect(findLicense(a.team.id, c.license.fingerprint)).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/by its id/) });
    expect((await findLicense(a.team.id, d.license.id)).id).toBe(d.license.id);
    // Another team's license with the same fingerprint does not make it ambiguous.
    const other = `addr-b-${uniq()}`;
    await createApp(b, { name: "AddrB", slug: other });
    const e = await createCustomer(b, other, { name: "Wallace" });
    await db.license.update({ where: { id: e.license.id }, data: { fingerprint: "0badf00d" } });
    await db.license.update({ where: { id: d.license.id }, data: { fingerprint: d.license.fingerprint } });
    await db.license.update({ where: { id: c.license.id }, data: { fingerprint: "0badf00d" } });
    expect((await findLicense(a.team.id, "0badf00d")).id).toBe(c.license.id);
    expect((await findLicense(b.team.id, "0badf00d")).id).toBe(e.license.id);
  });

  it("searches by name or email (any case), filters by state and paginates without gaps", async () => {
    const ctx = await team();
    const slug = `list-${uniq()}`;
    await createApp(ctx, { name: "List", slug });
    const made = [];
    for (let i = 0; i < 7; i++) made.push(await createCustomer(ctx, slug, { name: `Customer ${i}`, email: i === 3 ? "Special@Example.com" : undefined }));
    await revokeLicense(ctx, made[1]!.license.id);
    await setLicenseExpiry(ctx, made[2]!.license.id, new Date(Date.now() - 1000));
    const app = await getApp(ctx.team.id, slug);
    expect((await listCustomers(ctx.team.id, { appId: app.id, q: "SPECIAL@" })).customers.map((c) => c.name)).toEqual(["Customer 3"]);
    expect((await listCustomers(ctx.team.id, { appId: app.id, q: "customer 6" })).customers).toHaveLength(1);
    expect((await listCustomers(ctx.team.id, { appId: app.id, state: "revoked" })).customers.map((c) => c.name)).toEqual(["Customer 1"]);
    expect((await listCustomers(ctx.team.id, { appId: app.id, state: "expired" })).customers.map((c) => c.name)).toEqual(["Customer 2"]);
    expect((await listCustomers(ctx.team.id, { appId: app.id, state: "active" })).customers).toHaveLength(5);
    const seen: string[] = [];
    let before: string | undefined;
    do {
      const page = await listCustomers(ctx.team.id, { appId: app.id, pageSize: 3, before });
      seen.push(...page.customers.map((c) => c.name));
      before = page.nextCursor ?? undefined;
    } while (before);
    expect(seen).toEqual(made.map((c) => c.name).reverse());
  });
});

describe("license files", () => {
  it("are signed with the team's key, verify with the public key, and verify-license checks them offline", async () => {
    const ctx = await team();
    const slug = `file-${uniq()}`;
    await createApp(ctx, { name: "File", slug });
    const c = await createCustomer(ctx, slug, { name: "Stark Industries", type: "trial", expiresAt: "2099-06-30" });
    const { yaml, filename } = await licenseFile(ctx.team.id, c.license.id);
    expect(filename).toBe(`${slug}-stark-industries-license.yaml`);
    const key = await teamSigningKey(ctx.team.id);
    const verified = verifyLicenseFile(yaml, key.publicKey);
    expect(verified).toMatchObject({
      valid: true,
      spec: { licenseId: c.license.licenseId, appSlug: slug, customerName: "Stark Industries", licenseType: "trial", expiresAt: "2099-06-30T23:59:59.999Z", proxyDomain: env().proxyDomain },
    });
    // the private key is encrypted at rest; the same key signs every file of the team
    expect((await teamSigningKey(ctx.team.id)).keyId).toBe(key.keyId);
    const secretRow = await db.encryptedSecret.findFirstOrThrow({ where: { teamId: ctx.team.id, purpose: "license.signing-key" } });
    expect(secretRow.kekId).toBeTruthy();

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-verify-"));
    fs.writeFileSync(path.join(dir, "license.yaml"), yaml);
    fs.writeFileSync(path.join(dir, "key.pem"), key.publicKey);
    fs.writeFileSync(path.join(dir, "tampered.yaml"), yaml.replace("licenseType: trial", "licenseType: paid"));
    const cli = (file: string) => {
      try {
        return { code: 0, out: execFileSync("npm", ["run", "-s", "gantry", "--", "verify-license", path.join(dir, file), "--key", path.join(dir, "key.pem")], { encoding: "utf8" }) };
      } catch (e) {
        const err = e as { status: number; stdout: string };
        return { code: err.status, out: err.stdout };
      }
    };
    const good = cli("license.yaml");
    expect(good.code).toBe(0);
    expect(JSON.parse(good.out.trim().split("\n").at(-1) ?? "{}")).toMatchObject({ valid: true, state: "active", customer: "Stark Industries" });
    const bad = cli("tampered.yaml");
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out.trim().split("\n").at(-1) ?? "{}")).toMatchObject({ valid: false, reason: expect.stringMatching(/does not match/) });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
