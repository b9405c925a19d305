import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "@/lib/auth/sign-up";
import { createApp } from "@/lib/apps/apps";
import { resetProxyCacheForTests } from "@/lib/cache/cache";
import { db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { createCustomer } from "@/lib/licenses/customers";
import { handleRegistryRequest } from "@/lib/proxy/handler";
import { createRegistry } from "@/lib/registries/registries";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { forgetPinnedDigestsForTests } from "@/lib/releases/pinned-digests";
import { createRelease } from "@/lib/releases/releases";
import { setExtraPatterns, setLicensePin } from "@/lib/releases/scope";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, buildMultiArchIndex, cleanupImages, pushImage } from "@/lib/testing/registries/images";
import { skopeoListTags, skopeoPull } from "@/lib/testing/skopeo";

/**
 * A pinned license reaches the tags its releases name and the digests those
 * tags resolved to, at the proxy, with real clients (skopeo) against a real
 * upstream: releases 1.0.0 and 2.0.0 ship acme/api under two tags; a license
 * pinned to 1.0.0 gets 1.0.0 (tag and digest, re-pushed or not, multi-arch
 * children included, cache on or off) and nothing of 2.0.0 but its blobs'
 * repository. Unpinned licenses and extra patterns keep repository scope.
 */
let upstream: RunningRegistry;
let proxy: http.Server;
let host = "";
let up = "";
let ctx: TeamContext;
let pinned = "";
let pinnedRowId = "";
let unpinned = "";
const stamp = Date.now().toString(36);
const slug = `pin-${stamp}`;
const digests = { v1: "", v2: "", repushed: "", repushedAgain: "", index: "", amd64: "", arm64: "" };

function indexChildren(layoutDir: string): { index: string; children: Record<string, string> } {
  const top = JSON.parse(fs.readFileSync(path.join(layoutDir, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  const index = top.manifests[0]!.digest;
  const body = JSON.parse(fs.readFileSync(path.join(layoutDir, "blobs", "sha256", index.slice(7)), "utf8")) as { manifests: { digest: string; platform: { architecture: string } }[] };
  return { index, children: Object.fromEntries(body.manifests.map((m) => [m.platform.architecture, m.digest])) };
}

beforeAll(async () => {
  upstream = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
  up = `127.0.0.1_${upstream.port}`;
  const push = async (files: Record<string, string>, repo: string, tag: string) => (await pushImage(await buildImage({ files }), { registry: upstream, repo, tag, creds: "alice:alice-pw" })).digest;
  digests.v1 = await push({ "v.txt": "1.0.0\n" }, "acme/api", "1.0.0");
  digests.v2 = await push({ "v.txt": "2.0.0\n" }, "acme/api", "2.0.0");
  await push({ "v.txt": "nightly\n" }, "acme/api", "nightly"); // in no release
  await push({ "t.txt": "tools\n" }, "acme/tools", "edge");
  const multi = await buildMultiArchIndex("multi");
  await pushImage(multi, { registry: upstream, repo: "acme/multi", tag: "1.0.0", creds: "alice:alice-pw", all: true });
  const { index, children } = indexChildren(multi.layoutDir);
  digests.index = index;
  digests.amd64 = children.amd64!;
  digests.arm64 = children.arm64!;

  proxy = http.createServer((req, res) => void handleRegistryRequest(req, res, { clientIp: req.socket.remoteAddress ?? null }));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const { user, team } = await signUp({ email: `pin-${stamp}@example.com`, password: "correct horse battery", teamName: "Pin" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Pinned Suite", slug });
  await createRegistry(ctx, { name: "Upstream", endpoint: upstream.url, username: "alice", password: "alice-pw" });
  const r1 = await createRelease(ctx, slug, { version: "1.0.0", images: [`${upstream.host}/acme/api:1.0.0`, `${upstream.host}/acme/multi:1.0.0`] });
  const r2 = await createRelease(ctx, slug, { version: "2.0.0", images: [`${upstream.host}/acme/api:2.0.0`] });
  // The release library probed each image with the registry's credentials and kept the digest it saw.
  expect(r1.images.find((i) => i.image.endsWith("api:1.0.0"))).toMatchObject({ upstreamRepository: `${up}/acme/api`, digest: digests.v1 });
  expect(r2.images[0]).toMatchObject({ upstreamRepository: `${up}/acme/api`, digest: digests.v2 });
  const p = await createCustomer(ctx, slug, { name: "Trial" });
  pinned = p.license.licenseId;
  pinnedRowId = p.license.id;
  await setLicensePin(ctx, pinnedRowId, { maxVersion: "1.0.0" });
  unpinned = (await createCustomer(ctx, slug, { name: "Paid" })).license.licenseId;
}, 180_000);

afterAll(async () => {
  proxy.close();
  await stopAll();
  cleanupImages();
  delete process.env.GANTRY_CACHE_MAX_BYTES;
  resetEnvForTests();
  resetProxyCacheForTests();
});

const creds = (id: string) => `LICENSE_ID:${id}`;
const ref = (repo: string, reference: string) => `${host}/proxy/${slug}/${up}/${repo}${reference.includes(":") ? "@" : ":"}${reference}`;
const get = (repo: string, reference: string, id: string) =>
  fetch(`http://${host}/v2/proxy/${slug}/${up}/${repo}/manifests/${reference}`, { headers: { authorization: `Basic ${Buffer.from(creds(id)).toString("base64")}`, accept: MANIFEST_ACCEPT } });
const refusal = (what: string) => `${what} is not in the releases this license may install (up to 1.0.0); ask your vendor.`;

async function expectRefused(res: Response, what: string) {
  expect(res.status).toBe(403);
  expect(await res.json()).toEqual({ errors: [{ code: "DENIED", message: refusal(what), detail: null }] });
}

describe("a license pinned to 1.0.0, at the proxy", () => {
  it("pulls 1.0.0 by tag and by digest, is refused 2.0.0's tag and digest, and lists only 1.0.0", async () => {
    expect(await skopeoPull(ref("acme/api", "1.0.0"), creds(pinned))).toBe(digests.v1);
    expect(await skopeoPull(ref("acme/api", digests.v1), creds(pinned))).toBe(digests.v1);

    await expect(skopeoPull(ref("acme/api", "2.0.0"), creds(pinned))).rejects.toThrow(refusal(`${up}/acme/api:2.0.0`));
    await expect(skopeoPull(ref("acme/api", digests.v2), creds(pinned))).rejects.toThrow(refusal(`${up}/acme/api@${digests.v2}`));
    await expectRefused(await get("acme/api", "2.0.0", pinned), `${up}/acme/api:2.0.0`);
    await expectRefused(await get("acme/api", digests.v2, pinned), `${up}/acme/api@${digests.v2}`);
    await expectRefused(await get("acme/api", "nightly", pinned), `${up}/acme/api:nightly`);
    // Known to this process or not (another replica, a restart), 2.0.0's digest stays out.
    forgetPinnedDigestsForTests();
    await expectRefused(await get("acme/api", digests.v2, pinned), `${up}/acme/api@${digests.v2}`);

    expect(await skopeoListTags(`${host}/proxy/${slug}/${up}/acme/api`, creds(pinned))).toEqual(["1.0.0"]);
  });

  it("pulls a multi-arch index under its pinned tag, with its platform manifests by digest", async () => {
    const pulled = await skopeoPull(ref("acme/multi", "1.0.0"), creds(pinned));
    expect([digests.amd64, digests.arm64]).toContain(pulled);
    expect(await skopeoPull(ref("acme/multi", "1.0.0"), creds(pinned), { all: true })).toBe(digests.index);
    expect((await get("acme/multi", digests.arm64, pinned)).status).toBe(200);
    // On a replica that never saw the index: the tag's record and the index itself say so.
    forgetPinnedDigestsForTests();
    expect((await get("acme/multi", digests.amd64, pinned)).status).toBe(200);
    expect((await get("acme/multi", digests.index, pinned)).status).toBe(200);
    // A platform manifest of another index is not one of these.
    await expectRefused(await get("acme/multi", digests.v2, pinned), `${up}/acme/multi@${digests.v2}`);
  });

  it("still pulls 1.0.0 after the vendor re-pushed it (a new digest), by tag and by digest, also on a replica that did not see it", async () => {
    digests.repushed = (await pushImage(await buildImage({ files: { "v.txt": "1.0.0 rebuilt\n" } }), { registry: upstream, repo: "acme/api", tag: "1.0.0", creds: "alice:alice-pw" })).digest;
    expect(await skopeoPull(ref("acme/api", "1.0.0"), creds(pinned))).toBe(digests.repushed);
    expect(await skopeoPull(ref("acme/api", digests.repushed), creds(pinned))).toBe(digests.repushed);
    forgetPinnedDigestsForTests();
    // From the cache's tag record (CacheTag) alone.
    expect((await get("acme/api", digests.repushed, pinned)).status).toBe(200);
    // What the release was probed at stays allowed (clients mid-install hold it).
    expect((await get("acme/api", digests.v1, pinned)).status).toBe(200);
  });

  it("with the cache off: the tag is still recorded, so by-digest follow-ups pass", async () => {
    process.env.GANTRY_CACHE_MAX_BYTES = "0";
    resetEnvForTests();
    resetProxyCacheForTests();
    try {
      digests.repushedAgain = (await pushImage(await buildImage({ files: { "v.txt": "1.0.0 rebuilt again\n" } }), { registry: upstream, repo: "acme/api", tag: "1.0.0", creds: "alice:alice-pw" })).digest;
      forgetPinnedDigestsForTests();
      expect(await skopeoPull(ref("acme/api", "1.0.0"), creds(pinned))).toBe(digests.repushedAgain);
      expect(await skopeoPull(ref("acme/api", digests.repushedAgain), creds(pinned))).toBe(digests.repushedAgain);
      forgetPinnedDigestsForTests();
      expect((await get("acme/api", digests.repushedAgain, pinned)).status).toBe(200);
      const row = await db.cacheTag.findFirst({ where: { repository: "acme/api", tag: "1.0.0", registry: { teamId: ctx.team.id } } });
      expect(row?.digest).toBe(digests.repushedAgain);
      // The index's children, read from the upstream once.
      forgetPinnedDigestsForTests();
      expect(await skopeoPull(ref("acme/multi", "1.0.0"), creds(pinned), { all: true })).toBe(digests.index);
      await expectRefused(await get("acme/api", digests.v2, pinned), `${up}/acme/api@${digests.v2}`);
    } finally {
      delete process.env.GANTRY_CACHE_MAX_BYTES;
      resetEnvForTests();
      resetProxyCacheForTests();
    }
  });
});

describe("unpinned licenses and extra patterns keep repository scope", () => {
  it("an unpinned license pulls any tag of a released repository and lists them all", async () => {
    expect(await skopeoPull(ref("acme/api", "2.0.0"), creds(unpinned))).toBe(digests.v2);
    expect((await get("acme/api", "nightly", unpinned)).status).toBe(200);
    expect(await skopeoListTags(`${host}/proxy/${slug}/${up}/acme/api`, creds(unpinned))).toEqual(["1.0.0", "2.0.0", "nightly"]);
  });

  it("a repository matching an extra pattern: any tag, for a pinned license too", async () => {
    await expect(skopeoPull(ref("acme/tools", "edge"), creds(pinned))).rejects.toThrow(`${up}/acme/tools is not part of Pinned Suite's releases; ask your vendor.`);
    await setExtraPatterns(ctx, slug, [`${up}/acme/tools`]);
    expect(await skopeoListTags(`${host}/proxy/${slug}/${up}/acme/tools`, creds(pinned))).toEqual(["edge"]);
    await skopeoPull(ref("acme/tools", "edge"), creds(pinned));
    // A pattern over a released repository opens the whole repository too: patterns name repositories, not versions.
    await setExtraPatterns(ctx, slug, [`${up}/acme/tools`, `${up}/acme/a*`]);
    expect(await skopeoPull(ref("acme/api", "2.0.0"), creds(pinned))).toBe(digests.v2);
    expect(await skopeoListTags(`${host}/proxy/${slug}/${up}/acme/api`, creds(pinned))).toEqual(["1.0.0", "2.0.0", "nightly"]);
    await setExtraPatterns(ctx, slug, []);
    await expectRefused(await get("acme/api", "2.0.0", pinned), `${up}/acme/api:2.0.0`);
  });
});

describe("unpinning", () => {
  it("lets the license through within a second, also when another instance changed the pin", async () => {
    await expectRefused(await get("acme/api", "2.0.0", pinned), `${up}/acme/api:2.0.0`);
    // A direct write, as another replica would make it: no in-process invalidation helps here.
    await db.license.update({ where: { id: pinnedRowId }, data: { maxVersion: null } });
    const started = Date.now();
    let status = 403;
    while (status !== 200 && Date.now() - started < 3000) {
      status = (await get("acme/api", "2.0.0", pinned)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    const took = Date.now() - started;
    console.log(`[pin] unpinned license let through after ${took} ms`);
    expect(status).toBe(200);
    expect(took).toBeLessThan(1000);
    expect(await skopeoPull(ref("acme/api", digests.v2), creds(pinned))).toBe(digests.v2);
    expect(await skopeoListTags(`${host}/proxy/${slug}/${up}/acme/api`, creds(pinned))).toEqual(["1.0.0", "2.0.0", "nightly"]);
  });
});
