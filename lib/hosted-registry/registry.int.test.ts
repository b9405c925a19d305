import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "@/lib/api-tokens/tokens";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { db } from "@/lib/db";
import { createCustomer, revokeLicense } from "@/lib/licenses/customers";
import { setExtraPatterns } from "@/lib/releases/scope";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startTestHostedRegistry, type TestHostedRegistry } from "@/lib/testing/hosted-registry";
import { buildImage, buildMultiArchIndex, cleanupImages } from "@/lib/testing/registries/images";

const run = promisify(execFile);

/**
 * Gantry's own registry end to end with skopeo, in front of a real
 * distribution: vendors push with an API token or their email and password,
 * vendors and licensed customers pull back byte-identical content, and
 * everyone else gets the registry's own error answers.
 */
let reg: TestHostedRegistry;
let ctx: TeamContext;
let otherCtx: TeamContext;
const stamp = Date.now().toString(36);
const slug = `hosted-${stamp}`;
const otherSlug = `hosted-b-${stamp}`;
const email = `hosted-${stamp}@example.com`;
const password = "correct horse battery staple";
let adminToken = "";
let memberToken = "";
let otherTeamToken = "";
let licenseId = "";
let otherAppLicense = "";
let work = "";

async function skopeo(args: string[]) {
  return run("skopeo", ["--command-timeout", "120s", ...args], { maxBuffer: 64 * 1024 * 1024 });
}

async function skopeoFails(args: string[]): Promise<string> {
  try {
    await skopeo(args);
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e);
  }
  throw new Error(`skopeo ${args.join(" ")} succeeded; it should have failed`);
}

/** Every file of an OCI layout's blobs, by name: what "byte-identical" compares. */
function blobs(layout: string): Map<string, string> {
  const dir = path.join(layout, "blobs", "sha256");
  return new Map(fs.readdirSync(dir).map((f) => [f, crypto.createHash("sha256").update(fs.readFileSync(path.join(dir, f))).digest("hex")]));
}

beforeAll(async () => {
  reg = await startTestHostedRegistry();
  work = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-hosted-test-"));
  const { user, team } = await signUp({ email, password, teamName: "Hosted" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Hosted Suite", slug });
  await setExtraPatterns(ctx, slug, ["**"]);
  adminToken = (await createApiToken(ctx, { name: "ci-admin", role: "admin" })).token;
  memberToken = (await createApiToken(ctx, { name: "ci-member", role: "member" })).token;
  licenseId = (await createCustomer(ctx, slug, { name: "Customer" })).license.licenseId;

  const other = await signUp({ email: `hosted-b-${stamp}@example.com`, password, teamName: "Other team" });
  otherCtx = await teamContextForUser(other.user, other.team.slug, "team:view");
  await createApp(otherCtx, { name: "Other", slug: otherSlug });
  otherTeamToken = (await createApiToken(otherCtx, { name: "b-admin", role: "admin" })).token;
  otherAppLicense = (await createCustomer(otherCtx, otherSlug, { name: "B customer" })).license.licenseId;
}, 120_000);

afterAll(async () => {
  await reg?.stop();
  cleanupImages();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe("push and pull with skopeo", () => {
  it("pushes a multi-arch image with an API token and pulls it back byte-identical, as the vendor and with a license", async () => {
    const index = await buildMultiArchIndex("v1");
    const ref = `docker://${reg.host}/${slug}/api:1.0`;
    await skopeo(["copy", "--all", "--dest-tls-verify=false", "--dest-creds", `${adminToken}:${adminToken}`, `oci:${index.layoutDir}:${index.tag}`, ref]);

    for (const [who, creds] of [
      ["vendor", `${adminToken}:${adminToken}`],
      ["customer", `LICENSE_ID:${licenseId}`],
    ] as const) {
      const out = path.join(work, `pull-${who}`);
      await skopeo(["copy", "--all", "--src-tls-verify=false", "--src-creds", creds, ref, `oci:${out}:v1`]);
      const pushed = blobs(index.layoutDir);
      const pulled = blobs(out);
      // The index, two platform manifests, two configs, two layers: each byte-identical to what was pushed.
      expect(pulled.size).toBe(7);
      for (const [name, hash] of pulled) {
        expect(hash).toBe(name);
        expect(pushed.get(name)).toBe(hash);
      }
    }
    const tag = await db.registryTag.findFirstOrThrow({ where: { repository: "api", tag: "1.0", app: { slug } } });
    expect(tag.pushedBy).toBe("token:ci-admin");
    const manifests = await db.registryManifest.findMany({ where: { repository: "api", app: { slug } } });
    expect(manifests).toHaveLength(3); // the index and two platform manifests
  });

  it("pushes with the portal email and password", async () => {
    const image = await buildImage({ files: { "email.txt": "pushed by email\n" } });
    await skopeo(["copy", "--dest-tls-verify=false", "--dest-creds", `${email}:${password}`, `oci:${image.layoutDir}:${image.tag}`, `docker://${reg.host}/${slug}/tools/cli:2.0`]);
    const tag = await db.registryTag.findFirstOrThrow({ where: { repository: "tools/cli", tag: "2.0", app: { slug } } });
    expect(tag.pushedBy).toBe(`user:${email}`);
    // The push is in the team's activity log, by that user.
    const pushed = await db.activityEvent.findFirstOrThrow({ where: { teamId: ctx.team.id, action: "image.pushed", resourceId: `${slug}/tools/cli:2.0` } });
    expect([pushed.actorType, pushed.actorLabel]).toEqual(["user", email]);
    const { stdout } = await skopeo(["inspect", "--tls-verify=false", "--creds", `x:${licenseId}`, `docker://${reg.host}/${slug}/tools/cli:2.0`]);
    expect(JSON.parse(stdout).Digest).toBe(tag.digest);
  });

  it("refuses a member-role token's push, another team's token as if the app did not exist, and a wrong password", async () => {
    const image = await buildImage({ files: { "no.txt": "refused\n" } });
    const src = `oci:${image.layoutDir}:${image.tag}`;
    const member = await skopeoFails(["copy", "--dest-tls-verify=false", "--dest-creds", `${memberToken}:${memberToken}`, src, `docker://${reg.host}/${slug}/api:member`]);
    expect(member).toMatch(/denied|unauthorized/i);

    // Team B's admin token on team A's app, and on an app that does not exist: the same answer.
    const answers: string[] = [];
    for (const target of [slug, `nope-${stamp}`]) {
      const res = await fetch(`http://${reg.host}/v2/${target}/api/blobs/uploads/`, { method: "POST", headers: { authorization: `Basic ${Buffer.from(`${otherTeamToken}:${otherTeamToken}`).toString("base64")}` } });
      answers.push(`${res.status} ${await res.text()}`.replaceAll(target, "<app>"));
    }
    expect(answers[0]).toMatch(/^404 .*NAME_UNKNOWN/);
    expect(answers[1]).toBe(answers[0]);

    const wrong = await fetch(`http://${reg.host}/v2/token?scope=repository:${slug}/api:pull`, { headers: { authorization: `Basic ${Buffer.from(`${email}:wrong-password`).toString("base64")}` } });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).errors[0].code).toBe("UNAUTHORIZED");
  });

  it("denies a license of another app, and a revoked license within a second", async () => {
    const ref = `docker://${reg.host}/${slug}/api:1.0`;
    const other = await skopeoFails(["inspect", "--raw", "--tls-verify=false", "--creds", `x:${otherAppLicense}`, ref]);
    expect(other).toMatch(/denied|unauthorized/i);

    const c = await createCustomer(ctx, slug, { name: "Soon revoked" });
    const basic = `Basic ${Buffer.from(`x:${c.license.licenseId}`).toString("base64")}`;
    const manifest = `http://${reg.host}/v2/${slug}/api/manifests/1.0`;
    expect((await fetch(manifest, { headers: { authorization: basic } })).status).toBe(200);
    await revokeLicense(ctx, c.license.id);
    const revokedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - revokedAt < 3000) {
      status = (await fetch(manifest, { headers: { authorization: basic } })).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
  });
});
