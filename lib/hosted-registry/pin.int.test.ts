import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "@/lib/api-tokens/tokens";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { createCustomer } from "@/lib/licenses/customers";
import { forgetPinnedDigestsForTests } from "@/lib/releases/pinned-digests";
import { createRelease } from "@/lib/releases/releases";
import { setExtraPatterns, setLicensePin } from "@/lib/releases/scope";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startTestHostedRegistry, type TestHostedRegistry } from "@/lib/testing/hosted-registry";
import { buildImage, buildMultiArchIndex, cleanupImages, type BuiltImage } from "@/lib/testing/registries/images";
import { skopeoListTags, skopeoPull } from "@/lib/testing/skopeo";

const run = promisify(execFile);

/**
 * The pin on Gantry's own registry, with real pushes (skopeo, the vendor's API
 * token) and real pulls: releases 1.0.0 and 2.0.0 ship <registry>/<app>/api
 * under two tags; a license pinned to 1.0.0 gets 1.0.0's tag and digest (after
 * a re-push too, multi-arch children included), nothing of 2.0.0, and a tag
 * list without it. Unpinned licenses, vendors and extra patterns keep
 * repository scope.
 */
let reg: TestHostedRegistry;
let ctx: TeamContext;
let token = "";
let pinned = "";
let pinnedRowId = "";
let unpinned = "";
const stamp = Date.now().toString(36);
const slug = `hpin-${stamp}`;
const digests = { v1: "", v2: "", repushed: "", index: "", amd64: "", arm64: "" };

async function push(image: BuiltImage, repo: string, tag: string, all = false): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-push-"));
  try {
    const file = path.join(dir, "digest");
    const args = ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", `${token}:${token}`, "--digestfile", file, ...(all ? ["--all"] : [])];
    await run("skopeo", [...args, `oci:${image.layoutDir}:${image.tag}`, `docker://${reg.host}/${slug}/${repo}:${tag}`]);
    return fs.readFileSync(file, "utf8").trim();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  // The registry's public name is the configured registry domain, as release images name it.
  reg = await startTestHostedRegistry({ publicHost: env().registryDomain });
  const { user, team } = await signUp({ email: `hpin-${stamp}@example.com`, password: "correct horse battery staple", teamName: "Hosted pin" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Hosted Suite", slug });
  token = (await createApiToken(ctx, { name: "ci", role: "admin" })).token;
  digests.v1 = await push(await buildImage({ files: { "v.txt": "hosted 1.0.0\n" } }), "api", "1.0.0");
  digests.v2 = await push(await buildImage({ files: { "v.txt": "hosted 2.0.0\n" } }), "api", "2.0.0");
  await push(await buildImage({ files: { "v.txt": "hosted nightly\n" } }), "api", "nightly");
  await push(await buildImage({ files: { "t.txt": "hosted tools\n" } }), "tools", "edge");
  digests.index = await push(await buildMultiArchIndex("hosted-multi"), "multi", "1.0.0", true);
  const index = (await (await fetch(`http://${reg.host}/v2/${slug}/multi/manifests/1.0.0`, { headers: { authorization: `Basic ${Buffer.from(`${token}:${token}`).toString("base64")}`, accept: "application/vnd.oci.image.index.v1+json" } })).json()) as { manifests: { digest: string; platform: { architecture: string } }[] };
  digests.amd64 = index.manifests.find((m) => m.platform.architecture === "amd64")!.digest;
  digests.arm64 = index.manifests.find((m) => m.platform.architecture === "arm64")!.digest;

  const domain = env().registryDomain;
  const r1 = await createRelease(ctx, slug, { version: "1.0.0", images: [`${domain}/${slug}/api:1.0.0`, `${domain}/${slug}/multi:1.0.0`] });
  await createRelease(ctx, slug, { version: "2.0.0", images: [`${domain}/${slug}/api:2.0.0`] });
  // The release records the digest Gantry's registry had for the tag.
  expect(r1.images.find((i) => i.image.endsWith("api:1.0.0"))).toMatchObject({ status: "vendor_registry", upstreamRepository: `${domain}/${slug}/api`, digest: digests.v1 });
  const p = await createCustomer(ctx, slug, { name: "Trial" });
  pinned = p.license.licenseId;
  pinnedRowId = p.license.id;
  await setLicensePin(ctx, pinnedRowId, { maxVersion: "1.0.0" });
  unpinned = (await createCustomer(ctx, slug, { name: "Paid" })).license.licenseId;
}, 180_000);

afterAll(async () => {
  await reg?.stop();
  cleanupImages();
});

const creds = (id: string) => `LICENSE_ID:${id}`;
const ref = (repo: string, reference: string) => `${reg.host}/${slug}/${repo}${reference.includes(":") ? "@" : ":"}${reference}`;
const get = (repo: string, reference: string, id: string) =>
  fetch(`http://${reg.host}/v2/${slug}/${repo}/manifests/${reference}`, {
    headers: { authorization: `Basic ${Buffer.from(creds(id)).toString("base64")}`, accept: "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json" },
  });
const refusal = (what: string) => `${what} is not in the releases this license may install (up to 1.0.0); ask your vendor.`;

async function expectRefused(res: Response, what: string) {
  expect(res.status).toBe(403);
  expect((await res.json()) as unknown).toEqual({ errors: [{ code: "DENIED", message: refusal(what), detail: null }] });
}

describe("a license pinned to 1.0.0, on Gantry's own registry", () => {
  it("pulls 1.0.0 by tag and by digest, is refused 2.0.0's tag and digest, and lists only 1.0.0", async () => {
    expect(await skopeoPull(ref("api", "1.0.0"), creds(pinned))).toBe(digests.v1);
    expect(await skopeoPull(ref("api", digests.v1), creds(pinned))).toBe(digests.v1);
    await expect(skopeoPull(ref("api", "2.0.0"), creds(pinned))).rejects.toThrow(refusal(`${slug}/api:2.0.0`));
    await expect(skopeoPull(ref("api", digests.v2), creds(pinned))).rejects.toThrow(refusal(`${slug}/api@${digests.v2}`));
    await expectRefused(await get("api", "nightly", pinned), `${slug}/api:nightly`);
    forgetPinnedDigestsForTests();
    await expectRefused(await get("api", digests.v2, pinned), `${slug}/api@${digests.v2}`);
    expect(await skopeoListTags(`${reg.host}/${slug}/api`, creds(pinned))).toEqual(["1.0.0"]);
    // Paged: n=1 still finds the allowed tag, with no link to pages of hidden tags.
    const page = await fetch(`http://${reg.host}/v2/${slug}/api/tags/list?n=1`, { headers: { authorization: `Basic ${Buffer.from(creds(pinned)).toString("base64")}` } });
    expect(await page.json()).toEqual({ name: `${slug}/api`, tags: ["1.0.0"] });
    expect(page.headers.get("link")).toBeNull();
  });

  it("pulls a multi-arch index under its pinned tag, with its platform manifests by digest", async () => {
    expect([digests.amd64, digests.arm64]).toContain(await skopeoPull(ref("multi", "1.0.0"), creds(pinned)));
    expect(await skopeoPull(ref("multi", "1.0.0"), creds(pinned), { all: true })).toBe(digests.index);
    // On a replica that never saw the push nor the index: the index is read from storage once.
    forgetPinnedDigestsForTests();
    expect((await get("multi", digests.arm64, pinned)).status).toBe(200);
    expect((await get("multi", digests.index, pinned)).status).toBe(200);
    await expectRefused(await get("multi", digests.v2, pinned), `${slug}/multi@${digests.v2}`);
  });

  it("still pulls 1.0.0 after the vendor re-pushed it, by tag and digest, and the digest the release recorded", async () => {
    digests.repushed = await push(await buildImage({ files: { "v.txt": "hosted 1.0.0 rebuilt\n" } }), "api", "1.0.0");
    forgetPinnedDigestsForTests();
    expect(await skopeoPull(ref("api", "1.0.0"), creds(pinned))).toBe(digests.repushed);
    expect(await skopeoPull(ref("api", digests.repushed), creds(pinned))).toBe(digests.repushed);
    forgetPinnedDigestsForTests();
    expect((await get("api", digests.repushed, pinned)).status).toBe(200); // from RegistryTag
    expect((await get("api", digests.v1, pinned)).status).toBe(200); // from the release
  });
});

describe("unpinned licenses, vendors and extra patterns keep repository scope", () => {
  it("an unpinned license and the vendor pull any tag and list them all", async () => {
    expect(await skopeoPull(ref("api", "2.0.0"), creds(unpinned))).toBe(digests.v2);
    expect((await get("api", "nightly", unpinned)).status).toBe(200);
    expect(await skopeoListTags(`${reg.host}/${slug}/api`, creds(unpinned))).toEqual(["1.0.0", "2.0.0", "nightly"]);
    expect(await skopeoListTags(`${reg.host}/${slug}/api`, `${token}:${token}`)).toEqual(["1.0.0", "2.0.0", "nightly"]);
  });

  it("a repository matching an extra pattern: any tag, for a pinned license too", async () => {
    await expect(skopeoPull(ref("tools", "edge"), creds(pinned))).rejects.toThrow(`${slug}/tools is not part of Hosted Suite's releases; ask your vendor.`);
    await setExtraPatterns(ctx, slug, [`${env().registryDomain}/${slug}/tools`]);
    await skopeoPull(ref("tools", "edge"), creds(pinned));
    expect(await skopeoListTags(`${reg.host}/${slug}/tools`, creds(pinned))).toEqual(["edge"]);
    // A pattern over a released repository opens the whole repository too.
    await setExtraPatterns(ctx, slug, [`${env().registryDomain}/${slug}/*`]);
    expect(await skopeoPull(ref("api", "2.0.0"), creds(pinned))).toBe(digests.v2);
    expect(await skopeoListTags(`${reg.host}/${slug}/api`, creds(pinned))).toEqual(["1.0.0", "2.0.0", "nightly"]);
    await setExtraPatterns(ctx, slug, []);
    await expectRefused(await get("api", "2.0.0", pinned), `${slug}/api:2.0.0`);
  });

  it("unpinning lets the license through within a second, also when another instance changed the pin", async () => {
    await expectRefused(await get("api", "2.0.0", pinned), `${slug}/api:2.0.0`);
    await db.license.update({ where: { id: pinnedRowId }, data: { maxVersion: null } });
    const started = Date.now();
    let status = 403;
    while (status !== 200 && Date.now() - started < 3000) {
      status = (await get("api", "2.0.0", pinned)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    const took = Date.now() - started;
    console.log(`[hosted pin] unpinned license let through after ${took} ms`);
    expect(status).toBe(200);
    expect(took).toBeLessThan(1000);
    expect(await skopeoPull(ref("api", digests.v2), creds(pinned))).toBe(digests.v2);
  });
});
