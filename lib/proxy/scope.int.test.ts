import { execFile } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { signUp } from "@/lib/auth/sign-up";
import { createApp } from "@/lib/apps/apps";
import { createCustomer } from "@/lib/licenses/customers";
import { handleRegistryRequest } from "@/lib/proxy/handler";
import { createRegistry } from "@/lib/registries/registries";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { archiveRelease, createRelease } from "@/lib/releases/releases";
import { appScopeSummary, getExtraPatterns, invalidateScope, isInReleaseScope, setExtraPatterns, setLicensePin, SNAPSHOT_TTL_MS } from "@/lib/releases/scope";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";

/**
 * What a license can reach through the proxy: the images of its app's
 * non-archived releases (within the license's pin) and the app's extra
 * patterns; everything else is 403 DENIED with a message the customer can act
 * on. Releases are rows inserted here directly (the release library creates
 * them in the product).
 */
const run = promisify(execFile);
let upstream: RunningRegistry;
let hub: RunningRegistry;
let proxy: http.Server;
let proxyHost = "";
let ctx: TeamContext;
let appId = "";
let otherAppId = "";
let license = "";
let licenseRowId = "";
let pinned = "";
let pinnedRowId = "";
const stamp = Date.now().toString(36);
const slug = `scope-${stamp}`;
const otherSlug = `scope2-${stamp}`;
let up = "";

async function addRelease(app: string, version: string, repositories: string[], createdAt?: Date) {
  return db.release.create({
    data: {
      teamId: ctx.team.id,
      appId: app,
      version,
      createdByLabel: "test",
      ...(createdAt ? { createdAt } : {}),
      images: {
        create: repositories.map((r) => ({
          appId: app,
          // As written in the manifests: the registry host, not its path name.
          image: `${r.replace(up, upstream.host)}:1`,
          status: "private",
          reason: "test",
          rewritten: `gantry.test:8443/proxy/x/${r}:1`,
          upstreamRepository: r,
        })),
      },
    },
  });
}

beforeAll(async () => {
  [upstream, hub] = await Promise.all([startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } }), startRegistry({ auth: "none" })]);
  up = `127.0.0.1_${upstream.port}`;
  const image = await buildImage({ files: { "scope.txt": "scope\n" } });
  for (const repo of ["acme/api", "acme/worker", "acme/next", "acme/secret", "library/alpine"]) {
    await pushImage(image, { registry: upstream, repo, tag: "1", creds: "alice:alice-pw" });
  }
  await pushImage(image, { registry: hub, repo: "library/tiny", tag: "1" });
  proxy = http.createServer((req, res) => void handleRegistryRequest(req, res, { clientIp: req.socket.remoteAddress ?? null }));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyHost = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  const { user, team } = await signUp({ email: `scope-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Scope" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  appId = (await createApp(ctx, { name: "Acme Suite", slug })).id;
  otherAppId = (await createApp(ctx, { name: "Other", slug: otherSlug })).id;
  await createRegistry(ctx, { name: "Upstream", endpoint: upstream.url, username: "alice", password: "alice-pw" });
  await createRegistry(ctx, { name: "Hub-like", endpoint: hub.url, pathName: "docker.io", username: "x", password: "y" });
  const c = await createCustomer(ctx, slug, { name: "Customer" });
  license = c.license.licenseId;
  licenseRowId = c.license.id;
  const p = await createCustomer(ctx, slug, { name: "Trial" });
  pinned = p.license.licenseId;
  pinnedRowId = p.license.id;
});
afterAll(async () => {
  proxy.close();
  await stopAll();
  cleanupImages();
});

const auth = (id: string) => ({ authorization: `Basic ${Buffer.from(`LICENSE_ID:${id}`).toString("base64")}` });
const manifest = (repo: string, id = license, upstreamName = up, app = slug) =>
  fetch(`http://${proxyHost}/v2/proxy/${app}/${upstreamName}/${repo}/manifests/1`, { headers: { ...auth(id), accept: MANIFEST_ACCEPT } });
const skopeoCopy = async (repo: string, id = license) => {
  const dir = (await run("mktemp", ["-d"])).stdout.trim();
  try {
    await run("skopeo", ["copy", "--src-tls-verify=false", "--src-creds", `LICENSE_ID:${id}`, `docker://${proxyHost}/proxy/${slug}/${up}/${repo}:1`, `oci:${dir}/out:1`]);
  } finally {
    await run("rm", ["-rf", dir]);
  }
};
async function expectDenied(res: Response, what: string, pin?: string) {
  expect(res.status).toBe(403);
  const message = pin ? `${what} is not in the releases this license may install (${pin}); ask your vendor.` : `${what} is not part of Acme Suite's releases; ask your vendor.`;
  expect(await res.json()).toEqual({ errors: [{ code: "DENIED", message, detail: null }] });
}

describe("release scope at the proxy", () => {
  it("allows nothing for an app with no releases and no patterns, and the summary says so", async () => {
    await expectDenied(await manifest("acme/api"), `${up}/acme/api`);
    expect(await appScopeSummary(ctx.team.id, slug)).toEqual({ releases: 0, activeReleases: 0, patterns: [], allowsNothing: true });
  });

  it("lets a license pull an image in a release, and denies a repository of the same upstream in no release, another app's, and library/…", async () => {
    await addRelease(appId, "1.0.0", [`${up}/acme/api`]);
    await addRelease(otherAppId, "1.0.0", [`${up}/acme/secret`]);
    invalidateScope();
    await skopeoCopy("acme/api");
    expect((await manifest("acme/api")).status).toBe(200);

    await expectDenied(await manifest("acme/worker"), `${up}/acme/worker`);
    await expect(skopeoCopy("acme/worker")).rejects.toThrow(/is not part of Acme Suite's releases; ask your vendor/);
    await expectDenied(await manifest("acme/secret"), `${up}/acme/secret`);
    await expectDenied(await manifest("library/alpine"), `${up}/library/alpine`);
    // A Docker-Hub-style path, through an alias of the docker.io path name.
    await expectDenied(await manifest("library/tiny", license, "index.docker.io"), "index.docker.io/library/tiny");
    // Blobs are checked like manifests.
    const blob = await fetch(`http://${proxyHost}/v2/proxy/${slug}/${up}/acme/worker/blobs/sha256:${"a".repeat(64)}`, { headers: auth(license) });
    expect(blob.status).toBe(403);
    expect(await appScopeSummary(ctx.team.id, slug)).toMatchObject({ releases: 1, activeReleases: 1, allowsNothing: false });
  });

  it("filters tags/list by the same rule", async () => {
    const ok = await fetch(`http://${proxyHost}/v2/proxy/${slug}/${up}/acme/api/tags/list`, { headers: auth(license) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ name: `proxy/${slug}/${up}/acme/api`, tags: ["1"] });
    await expectDenied(await fetch(`http://${proxyHost}/v2/proxy/${slug}/${up}/acme/worker/tags/list`, { headers: auth(license) }), `${up}/acme/worker`);
  });

  it("allows what an extra pattern matches, Docker Hub aliases included; invalid patterns are refused", async () => {
    expect(await setExtraPatterns(ctx, slug, [`${up}/acme/work*`, "docker.io/library/*"])).toEqual([`${up}/acme/work*`, "docker.io/library/*"]);
    expect(await getExtraPatterns(ctx.team.id, slug)).toEqual([`${up}/acme/work*`, "docker.io/library/*"]);
    expect((await manifest("acme/worker")).status).toBe(200);
    await skopeoCopy("acme/worker");
    expect((await manifest("library/tiny", license, "index.docker.io")).status).toBe(200);
    expect((await manifest("library/tiny", license, "registry-1.docker.io")).status).toBe(200);
    await expectDenied(await manifest("acme/secret"), `${up}/acme/secret`);
    await expect(setExtraPatterns(ctx, slug, ["quay.io/a**"])).rejects.toMatchObject({ code: "VALIDATION", fields: { patterns: [expect.stringMatching(/whole path segment/)] } });
    const events = await db.activityEvent.findMany({ where: { teamId: ctx.team.id, action: "app.patterns_changed" } });
    expect(events).toHaveLength(1);
    await setExtraPatterns(ctx, slug, []);
    await expectDenied(await manifest("acme/worker"), `${up}/acme/worker`);
  });

  it("denies a release's images within a second of archiving it, and allows them again on unarchive", async () => {
    const release = await db.release.findFirstOrThrow({ where: { appId, version: "1.0.0" } });
    expect((await manifest("acme/api")).status).toBe(200);
    // Archived by another instance (a direct write): no in-process invalidation helps here.
    await db.release.update({ where: { id: release.id }, data: { archivedAt: new Date() } });
    const started = Date.now();
    let status = 200;
    while (status !== 403 && Date.now() - started < 3000) {
      status = (await manifest("acme/api")).status;
      if (status !== 403) await new Promise((r) => setTimeout(r, 20));
    }
    const took = Date.now() - started;
    console.log(`archived release denied after ${took} ms (snapshot TTL ${SNAPSHOT_TTL_MS} ms)`);
    expect(status).toBe(403);
    expect(took).toBeLessThan(1000);
    expect(await appScopeSummary(ctx.team.id, slug)).toEqual({ releases: 1, activeReleases: 0, patterns: [], allowsNothing: true });
    await db.release.update({ where: { id: release.id }, data: { archivedAt: null } });
    invalidateScope(appId);
    expect((await manifest("acme/api")).status).toBe(200);
  });

  it("pins a license to releases up to a version (semver order, not string order) or published before a date", async () => {
    const t0 = new Date(Date.now() - 60_000);
    await addRelease(appId, "1.9.0", [`${up}/acme/api`], new Date(t0.getTime() + 1000));
    await addRelease(appId, "1.10.0", [`${up}/acme/next`], new Date(t0.getTime() + 2000));
    invalidateScope(appId);
    expect((await manifest("acme/next", pinned)).status).toBe(200);

    expect(await setLicensePin(ctx, pinnedRowId, { maxVersion: "1.9.0" })).toEqual({ maxVersion: "1.9.0", releasedBefore: null });
    // "1.10.0" > "1.9.0" in semver order (as strings it would sort first and be let through).
    await expectDenied(await manifest("acme/next", pinned), `${up}/acme/next`, "up to 1.9.0");
    expect((await manifest("acme/api", pinned)).status).toBe(200);
    // The unpinned license still reaches the newer release.
    expect((await manifest("acme/next", license)).status).toBe(200);

    const before = new Date(t0.getTime() + 1500);
    await setLicensePin(ctx, pinnedRowId, { maxVersion: null, releasedBefore: before });
    await expectDenied(await manifest("acme/next", pinned), `${up}/acme/next`, `published before ${before.toISOString().slice(0, 19).replace("T", " ")} UTC`);
    expect((await manifest("acme/api", pinned)).status).toBe(200);
    await setLicensePin(ctx, pinnedRowId, { releasedBefore: null });
    expect((await manifest("acme/next", pinned)).status).toBe(200);
    expect(await db.activityEvent.count({ where: { teamId: ctx.team.id, action: "license.pinned" } })).toBe(3);
    // Another team's license is not found.
    const other = await signUp({ email: `scope-other-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Other" });
    const otherCtx = await teamContextForUser(other.user, other.team.slug, "team:view");
    await expect(setLicensePin(otherCtx, licenseRowId, { maxVersion: "1.0.0" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("allows what a release created by the release library ships (from manifests), and stops it when archived", async () => {
    const appSlug = `scope-lib-${stamp}`;
    await createApp(ctx, { name: "Library", slug: appSlug });
    const customer = (await createCustomer(ctx, appSlug, { name: "Lib customer" })).license.licenseId;
    const manifests = [{ name: "deploy.yaml", content: `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\nspec:\n  template:\n    spec:\n      containers: [{ name: api, image: "${upstream.host}/acme/api:1" }]\n` }];
    const release = await createRelease(ctx, appSlug, { version: "3.0.0", files: manifests });
    expect(release.images.map((i) => i.upstreamRepository)).toEqual([`${up}/acme/api`]);
    const pull = () => manifest("acme/api", customer, up, appSlug);
    expect((await pull()).status).toBe(200);
    expect((await manifest("acme/worker", customer, up, appSlug)).status).toBe(403);
    await archiveRelease(ctx, appSlug, "3.0.0");
    const started = Date.now();
    let status = 200;
    while (status !== 403 && Date.now() - started < 3000) {
      status = (await pull()).status;
      if (status !== 403) await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(403);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("checks in well under a millisecond at p99 (in-process snapshot)", async () => {
    // A bigger app: 100 releases of 20 images each.
    const big = await createApp(ctx, { name: "Big", slug: `scope-big-${stamp}` });
    for (let r = 0; r < 100; r++) {
      await addRelease(big.id, `2.${r}.0`, Array.from({ length: 20 }, (_, i) => `${up}/big/svc-${(r * 7 + i) % 300}`));
    }
    await setExtraPatterns(ctx, big.slug, ["quay.io/acme/*", `${up}/tools/**`]);
    const pin = { maxVersion: "2.50.0", releasedBefore: null };
    const repos = [`${up}/big/svc-1`, `${up}/big/svc-299`, `${up}/nope/x`, "quay.io/acme/a", `${up}/tools/a/b`];
    const times: number[] = [];
    const started = Date.now();
    // Long enough to include reloads of expired snapshots (every SNAPSHOT_TTL_MS).
    for (let i = 0; Date.now() - started < 2000 || i < 20_000; i++) {
      const t = performance.now();
      await isInReleaseScope({ appId: big.id, upstreamRepository: repos[i % repos.length] ?? "", license: pin });
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const q = (f: number) => times[Math.min(times.length - 1, Math.floor(times.length * f))] ?? 0;
    console.log(`isInReleaseScope over ${times.length} checks (2000 release images): p50 ${(q(0.5) * 1000).toFixed(1)} µs, p99 ${(q(0.99) * 1000).toFixed(1)} µs, max ${q(1).toFixed(2)} ms`);
    expect(q(0.99)).toBeLessThan(5);
    // A reload (at most once per SNAPSHOT_TTL_MS per app, shared by concurrent checks): one indexed query.
    const cold: number[] = [];
    for (let i = 0; i < 20; i++) {
      invalidateScope(big.id);
      const t = performance.now();
      await isInReleaseScope({ appId: big.id, upstreamRepository: `${up}/big/svc-1`, license: pin });
      cold.push(performance.now() - t);
    }
    cold.sort((a, b) => a - b);
    console.log(`snapshot reload (2000 release images): median ${(cold[10] ?? 0).toFixed(2)} ms, max ${(cold[19] ?? 0).toFixed(2)} ms`);
  });
});
