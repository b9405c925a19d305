import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "@/lib/api-tokens/tokens";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { env } from "@/lib/env";
import { createCustomer } from "@/lib/licenses/customers";
import { archiveRelease, createRelease } from "@/lib/releases/releases";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startTestHostedRegistry, type TestHostedRegistry } from "@/lib/testing/hosted-registry";
import { buildImage, cleanupImages } from "@/lib/testing/registries/images";

const run = promisify(execFile);

/**
 * Releases bound what a license pulls from Gantry's own registry, as at the
 * proxy: a release naming <registry domain>/<app>/<image> lets the app's
 * licenses pull that image; anything else is 403, and archiving the release
 * stops it. Vendors are not bound by releases.
 */
let reg: TestHostedRegistry;
let ctx: TeamContext;
const stamp = Date.now().toString(36);
const slug = `scoped-${stamp}`;
let token = "";
let licenseId = "";
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;

beforeAll(async () => {
  // The registry's public name is the configured registry domain, as release images name it.
  reg = await startTestHostedRegistry({ publicHost: env().registryDomain });
  const { user, team } = await signUp({ email: `scoped-${stamp}@example.com`, password: "correct horse battery staple", teamName: "Scoped" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Scoped Suite", slug });
  token = (await createApiToken(ctx, { name: "ci", role: "admin" })).token;
  licenseId = (await createCustomer(ctx, slug, { name: "Customer" })).license.licenseId;
  for (const repo of ["api", "internal"]) {
    const image = await buildImage({ files: { [`${repo}.txt`]: `${repo}\n` } });
    await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", `${token}:${token}`, `oci:${image.layoutDir}:${image.tag}`, `docker://${reg.host}/${slug}/${repo}:1.0`]);
  }
}, 120_000);

afterAll(async () => {
  await reg?.stop();
  cleanupImages();
});

const get = (repo: string, auth: string) =>
  fetch(`http://${reg.host}/v2/${slug}/${repo}/manifests/1.0`, { headers: { authorization: auth, accept: "application/vnd.oci.image.manifest.v1+json" } });

describe("release scope on Gantry's own registry", () => {
  it("lets a license pull only images of the app's releases; archiving the release stops it; vendors pull anything", async () => {
    expect((await get("api", basic("x", licenseId))).status).toBe(403);
    const release = await createRelease(ctx, slug, { version: "1.0.0", images: [`${env().registryDomain}/${slug}/api:1.0`] });
    expect(release.images[0]).toMatchObject({ status: "vendor_registry", upstreamRepository: `${env().registryDomain}/${slug}/api` });
    expect((await get("api", basic("x", licenseId))).status).toBe(200);
    const outside = await get("internal", basic("x", licenseId));
    expect(outside.status).toBe(403);
    expect((await outside.json()).errors[0]).toMatchObject({ code: "DENIED", message: expect.stringContaining("not part of") });
    expect((await get("internal", basic(token, token))).status).toBe(200);
    await archiveRelease(ctx, slug, "1.0.0");
    expect((await get("api", basic("x", licenseId))).status).toBe(403);
  });
});
