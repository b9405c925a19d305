import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { unzipSync, strFromU8 } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { signUp } from "@/lib/auth/sign-up";
import { createApp } from "@/lib/apps/apps";
import { db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { createCustomer } from "@/lib/licenses/customers";
import { createRegistry } from "@/lib/registries/registries";
import { clearChallengeCache } from "@/lib/registry-client/client";
import { bundleZip, installerForLicense } from "@/lib/releases/installer";
import { archiveRelease, createRelease, getRelease, latestRelease, listReleases, reprobeRelease, unarchiveRelease } from "@/lib/releases/releases";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";

let open: RunningRegistry;
let token: RunningRegistry;
let ctx: TeamContext;
let other: TeamContext;
let privateDigest = "";
let openDigest = "";
const slug = `rel-${Date.now().toString(36)}`;
const proxy = `gantry.test:8443/proxy/${slug}`;
let manifests = "";

async function teamCtx(tag: string) {
  const { user, team } = await signUp({ email: `${tag}-${Date.now()}@example.com`, password: "correct horse battery", teamName: tag });
  return teamContextForUser(user, team.slug, "team:view");
}

beforeAll(async () => {
  [open, token] = await Promise.all([startRegistry({ auth: "none" }), startRegistry({ auth: "token", users: { bob: "bob-pw" } })]);
  const img = await buildImage({ files: { "r.txt": "release\n" } });
  ({ digest: openDigest } = await pushImage(img, { registry: open, repo: "acme/open", tag: "1.0" }));
  ({ digest: privateDigest } = await pushImage(img, { registry: token, repo: "private/api", tag: "2.0", creds: "bob:bob-pw" }));
  ctx = await teamCtx("Releases");
  other = await teamCtx("Other");
  await createApp(ctx, { name: "Releases", slug });
  await createRegistry(ctx, { name: "Token", endpoint: token.url, username: "bob", password: "bob-pw" });
  clearChallengeCache();
  manifests = `apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - { name: api, image: "${token.host}/private/api:2.0" }
        - { name: web, image: "${open.host}/acme/open:1.0" }
        - { name: typo, image: "${open.host}/acme/typo:1.0" }
`;
});
afterAll(async () => {
  await stopAll();
  cleanupImages();
});

describe("releases against real registries", () => {
  it("creates a release from manifests: image table with statuses, digests, upstream repositories, and placeholder installer files", async () => {
    const r = await createRelease(ctx, slug, { version: "1.9.0", notes: "First", manifests, images: [`${open.host}/acme/open:1.0`] });
    expect(r).toMatchObject({ version: "1.9.0", notes: "First", archivedAt: null, imageCount: 3, counts: { private: 1, public: 1, not_found: 1 } });
    const by = Object.fromEntries(r.images.map((i) => [i.image, i]));
    expect(by[`${token.host}/private/api:2.0`]).toMatchObject({
      status: "private",
      rewritten: `${proxy}/127.0.0.1_${token.port}/private/api:2.0`,
      upstreamRepository: `127.0.0.1_${token.port}/private/api`,
      // Seen with the team registry's credentials: anonymous probes get no digest for private images.
      digest: privateDigest,
      occurrences: [expect.objectContaining({ file: "manifest.yaml", kind: "Deployment", name: "api", container: "containers[0]" })],
    });
    expect(by[`${open.host}/acme/open:1.0`]).toMatchObject({ status: "public", digest: openDigest, rewritten: null, upstreamRepository: null });
    expect(by[`${open.host}/acme/open:1.0`]?.occurrences).toHaveLength(2); // in the manifests and in the image list
    expect(by[`${open.host}/acme/typo:1.0`]).toMatchObject({ status: "not_found", digest: null });
    expect(r.manifests).toEqual([{ name: "manifest.yaml", content: manifests }]);
    expect(r.imageList).toEqual([`${open.host}/acme/open:1.0`]);
    expect(r.files.map((f) => f.path)).toEqual(["overlays/midstream/kustomization.yaml", "overlays/midstream/secret.yaml", "overlays/midstream/pullsecrets.yaml", "helm-values.yaml"]);
    expect(r.files.find((f) => f.path.endsWith("secret.yaml"))?.content).toContain("REPLACE_WITH_LICENSE_ID is a placeholder");
    expect(await getRelease(ctx.team.id, slug, "1.9.0")).toEqual(r);
    const events = await db.activityEvent.findMany({ where: { teamId: ctx.team.id, action: "release.created" } });
    expect(events).toHaveLength(1);
  });

  it("refuses a taken version, and of 20 concurrent creates of one version exactly one succeeds", async () => {
    await expect(createRelease(ctx, slug, { version: "1.9.0", images: [`${open.host}/acme/open:1.0`] })).rejects.toMatchObject({ code: "CONFLICT" });
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => createRelease(ctx, slug, { version: "1.9.0-rc.1", images: [`${open.host}/acme/open:1.0`] })));
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    for (const o of outcomes) if (o.status === "rejected") expect(o.reason).toMatchObject({ code: "CONFLICT" });
    expect(await db.release.count({ where: { version: "1.9.0-rc.1" } })).toBe(1);
  });

  it("lists semver-first, highest first; non-semver labels last", async () => {
    for (const version of ["nightly-2024", "1.10.0", "v1.2"]) await createRelease(ctx, slug, { version, images: [`${open.host}/acme/open:1.0`] });
    const list = await listReleases(ctx.team.id, slug);
    expect(list.map((r) => r.version)).toEqual(["1.10.0", "1.9.0", "1.9.0-rc.1", "v1.2", "nightly-2024"]);
    expect(list[1]).toMatchObject({ imageCount: 3, counts: { private: 1, public: 1, not_found: 1, invalid: 0 } });
    expect((await latestRelease(ctx.team.id, slug))?.version).toBe("1.10.0");
  });

  it("archives and unarchives idempotently, with one event per change", async () => {
    const a = await archiveRelease(ctx, slug, "1.10.0");
    expect(a.archivedAt).toBeInstanceOf(Date);
    const again = await archiveRelease(ctx, slug, "1.10.0");
    expect(again.archivedAt).toEqual(a.archivedAt);
    expect((await listReleases(ctx.team.id, slug)).map((r) => r.version)).not.toContain("1.10.0");
    expect((await listReleases(ctx.team.id, slug, { includeArchived: true })).map((r) => r.version)).toContain("1.10.0");
    expect((await latestRelease(ctx.team.id, slug))?.version).toBe("1.9.0"); // non-archived preferred
    expect((await unarchiveRelease(ctx, slug, "1.10.0")).archivedAt).toBeNull();
    expect((await unarchiveRelease(ctx, slug, "1.10.0")).archivedAt).toBeNull();
    expect(await db.activityEvent.count({ where: { teamId: ctx.team.id, action: "release.archived" } })).toBe(1);
    expect(await db.activityEvent.count({ where: { teamId: ctx.team.id, action: "release.unarchived" } })).toBe(1);
  });

  it("re-probes: a tag moved to a new image is reported with both digests; manifests and files stay", async () => {
    const before = await getRelease(ctx.team.id, slug, "1.9.0");
    const img = await buildImage({ files: { "r.txt": "release, rebuilt\n" } });
    const { digest: moved } = await pushImage(img, { registry: open, repo: "acme/open", tag: "1.0" });
    expect(moved).not.toBe(openDigest);
    // A private image's tag moves too: the re-probe sees it through the registry's credentials.
    const { digest: movedPrivate } = await pushImage(img, { registry: token, repo: "private/api", tag: "2.0", creds: "bob:bob-pw" });
    const { release, changes } = await reprobeRelease(ctx, slug, "1.9.0");
    expect(changes).toEqual(
      expect.arrayContaining([
        { image: `${open.host}/acme/open:1.0`, from: { status: "public", digest: openDigest }, to: { status: "public", digest: moved } },
        { image: `${token.host}/private/api:2.0`, from: { status: "private", digest: privateDigest }, to: { status: "private", digest: movedPrivate } },
      ]),
    );
    expect(changes).toHaveLength(2);
    const row = release.images.find((i) => i.image === `${open.host}/acme/open:1.0`);
    expect(row).toMatchObject({ digest: moved, previousDigest: openDigest, previousStatus: "public" });
    expect(release.files).toEqual(before.files);
    expect(release.manifests).toEqual(before.manifests);
    expect(release.lastProbedAt.getTime()).toBeGreaterThanOrEqual(before.lastProbedAt.getTime());
    expect((await reprobeRelease(ctx, slug, "1.9.0")).changes).toEqual([]);
  });

  it("builds a customer's installer: images.json, its ConfigMap, the license in the pull secret, a zip, and an overlay kustomize renders", async () => {
    const c = await createCustomer(ctx, slug, { name: "Initech" });
    const byId = await installerForLicense(ctx, slug, "1.9.0", c.license.id);
    const byFingerprint = await installerForLicense(ctx, slug, "1.9.0", c.license.fingerprint);
    expect(byFingerprint).toEqual(byId);
    const file = (p: string) => byId.files.find((f) => f.path === p)?.content ?? "";

    const mapping = JSON.parse(file("images.json"));
    expect(mapping).toEqual({
      [`${token.host}/private/api:2.0`]: `${proxy}/127.0.0.1_${token.port}/private/api:2.0`,
      [`${open.host}/acme/open:1.0`]: `${open.host}/acme/open:1.0`,
      [`${open.host}/acme/typo:1.0`]: `${open.host}/acme/typo:1.0`,
    });
    const cm = YAML.parse(file("images-configmap.yaml"));
    expect(cm).toMatchObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `${slug}-images` } });
    expect(JSON.parse(cm.data["images.json"])).toEqual(mapping);

    const secret = YAML.parseAllDocuments(file("overlays/midstream/secret.yaml"))[0]?.toJS();
    const config = JSON.parse(Buffer.from(secret.data[".dockerconfigjson"], "base64").toString());
    expect(config.auths["gantry.test:8443"].password).toBe(c.license.licenseId);
    expect(byId.commands).toEqual({
      dockerLogin: `docker login gantry.test:8443 -u LICENSE_ID -p ${c.license.licenseId}`,
      kubectlApply: "kubectl apply -k overlays/midstream",
      helm: `helm upgrade --install ${slug} <chart> -f helm-values.yaml`,
    });
    for (const command of Object.values(byId.commands)) expect(file("README.md")).toContain(command);
    expect(file("README.md")).toContain("pulled through gantry.test:8443 (https://gantry.test:8443) with your license ID");
    expect(file("README.md")).not.toContain("Plain http");

    const zip = unzipSync(bundleZip(byId.files));
    expect(Object.keys(zip).sort()).toEqual(byId.files.map((f) => f.path).sort());
    for (const f of byId.files) expect(strFromU8(zip[f.path]!)).toBe(f.content);

    // The bundle alone renders: base/ holds the manifests, the overlay proxies the private image.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-bundle-"));
    for (const [p, bytes] of Object.entries(zip)) {
      fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
      fs.writeFileSync(path.join(dir, p), bytes);
    }
    const rendered = execFileSync("kubectl", ["kustomize", path.join(dir, "overlays", "midstream")], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    const docs = YAML.parseAllDocuments(rendered).map((d) => d.toJS());
    const deploy = docs.find((d) => d.kind === "Deployment");
    expect(deploy.spec.template.spec.containers.map((x: { image: string }) => x.image)).toEqual([
      `${proxy}/127.0.0.1_${token.port}/private/api:2.0`,
      `${open.host}/acme/open:1.0`,
      `${open.host}/acme/typo:1.0`,
    ]);
    expect(deploy.spec.template.spec.imagePullSecrets).toEqual([{ name: `${slug}-registry` }]);

    await expect(installerForLicense({ ...ctx, role: "member" }, slug, "1.9.0", c.license.id)).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(installerForLicense(ctx, slug, "1.9.0", "00000000")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(installerForLicense(ctx, slug, "9.9.9", c.license.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("tells the customer how to pull from a plain-http proxy URL, in the README and the pull secret", async () => {
    const c = await createCustomer(ctx, slug, { name: "Plain Lab" });
    const configured = process.env.GANTRY_PROXY_URL;
    process.env.GANTRY_PROXY_URL = "http://gantry.test:8443";
    resetEnvForTests();
    try {
      const { files, commands } = await installerForLicense(ctx, slug, "1.9.0", c.license.id);
      const file = (p: string) => files.find((f) => f.path === p)?.content ?? "";
      expect(commands.dockerLogin).toBe(`docker login gantry.test:8443 -u LICENSE_ID -p ${c.license.licenseId}`);
      expect(file("README.md")).toContain("pulled through gantry.test:8443 (http://gantry.test:8443) with your license ID");
      expect(file("README.md")).toContain('## Plain http\n\ngantry.test:8443 is served without TLS.');
      expect(file("README.md")).toContain('- Docker: add "gantry.test:8443" to "insecure-registries" in /etc/docker/daemon.json');
      expect(file("overlays/midstream/secret.yaml")).toContain("# gantry.test:8443 is plain http: every node's container runtime must list it as an insecure registry");
      // Names and pull-secret keys are the host alone, as Docker wants them.
      const secret = YAML.parseAllDocuments(file("overlays/midstream/secret.yaml"))[0]?.toJS();
      expect(Object.keys(JSON.parse(Buffer.from(secret.data[".dockerconfigjson"], "base64").toString()).auths)).toEqual(["gantry.test:8443", "registry.vendor.test"]);
    } finally {
      if (configured === undefined) delete process.env.GANTRY_PROXY_URL;
      else process.env.GANTRY_PROXY_URL = configured;
      resetEnvForTests();
    }
  });

  it("answers NOT_FOUND for another team's app and releases, and for labels that are not versions", async () => {
    const c = await db.license.findFirstOrThrow({ where: { teamId: ctx.team.id }, select: { id: true } });
    await expect(getRelease(other.team.id, slug, "1.9.0")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(listReleases(other.team.id, slug)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(createRelease(other, slug, { version: "5.0.0", images: ["busybox"] })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(archiveRelease(other, slug, "1.9.0")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(reprobeRelease(other, slug, "1.9.0")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(installerForLicense(other, slug, "1.9.0", c.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    // The other team's own app cannot reach this team's license either.
    const otherSlug = `${slug}-o`;
    await createApp(other, { name: "Other", slug: otherSlug });
    await createRelease(other, otherSlug, { version: "1.0.0", images: [`${open.host}/acme/open:1.0`] });
    await expect(installerForLicense(other, otherSlug, "1.0.0", c.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(getRelease(ctx.team.id, slug, "../1.9.0")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(createRelease(ctx, slug, { version: "-bad", images: ["busybox"] })).rejects.toMatchObject({ name: "ZodError" });
  });
});
