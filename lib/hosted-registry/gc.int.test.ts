import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "@/lib/api-tokens/tokens";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { registryCommand } from "@/lib/cli/commands/registry";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { createRelease } from "@/lib/releases/releases";
import { teamContextForUser } from "@/lib/teams/access";
import { startTestHostedRegistry, type TestHostedRegistry } from "@/lib/testing/hosted-registry";
import { buildImage, buildMultiArchIndex, cleanupImages } from "@/lib/testing/registries/images";
import { EmbeddedDistribution, findDistributionBinary } from "./distribution";
import { collectGarbage, type GcOptions } from "./gc";
import { gcStorageBackend } from "./gc-config";
import { clearReadOnly, setReadOnly } from "./read-only";
import { startHostedRegistry, type HostedRegistry } from "./service";
import { loadSigningKey } from "./signing";
import type { StorageBackend } from "./storage";

const run = promisify(execFile);

/**
 * `registry gc --delete-untagged` on a real distribution, with real pushes
 * (skopeo): a manifest whose Gantry tag was deleted is deleted by digest and
 * its layer files are collected; what a release lists, the platform manifests
 * of a tagged index, a referrer of a kept manifest and a recent push stay.
 */
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const ACCEPT = [OCI_MANIFEST, "application/vnd.oci.image.index.v1+json"].join(", ");
const stamp = Date.now().toString(36);
const slug = `gc-${stamp}`;
let reg: TestHostedRegistry;
let backend: StorageBackend;
let blobsDir: string;
let token = "";
let teamId = "";
let ctx: Awaited<ReturnType<typeof teamContextForUser>>;
const scratch: string[] = [];
const auth = () => ({ authorization: `Basic ${Buffer.from(`${token}:${token}`).toString("base64")}` });
const sha = (b: Buffer) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;

beforeAll(async () => {
  reg = await startTestHostedRegistry({ publicHost: env().registryDomain });
  const { user, team } = await signUp({ email: `gc-${stamp}@example.com`, password: "correct horse battery staple", teamName: "Collect" });
  teamId = team.id;
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Collect", slug });
  token = (await createApiToken(ctx, { name: "ci", role: "admin" })).token;
  const configFile = reg.registry.distributionConfigFile!;
  backend = gcStorageBackend({ configFile });
  blobsDir = path.join(reg.dir, "storage", "docker", "registry", "v2", "blobs");
}, 120_000);

afterAll(async () => {
  await clearReadOnly();
  await reg?.stop();
  cleanupImages();
  for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
});

const gc = (o: Partial<GcOptions> & { minAgeMs?: number } = {}) =>
  collectGarbage({ configFile: reg.registry.distributionConfigFile!, settleMs: 0, deleteUntagged: { backend, minAgeMs: o.minAgeMs ?? 0 }, ...o });
const blobFile = (dir: string, digest: string) => path.join(dir, "sha256", digest.slice(7, 9), digest.slice(7), "data");
const stored = (digest: string) => fs.existsSync(blobFile(blobsDir, digest));

async function push(host: string, repo: string, tag: string, files: Record<string, string>): Promise<{ digest: string; blobs: string[] }> {
  const image = await buildImage({ files });
  await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", `${token}:${token}`, `oci:${image.layoutDir}:${image.tag}`, `docker://${host}/${slug}/${repo}:${tag}`]);
  return manifestOf(host, repo, tag);
}

async function manifestOf(host: string, repo: string, reference: string): Promise<{ digest: string; blobs: string[] }> {
  const res = await fetch(`http://${host}/v2/${slug}/${repo}/manifests/${reference}`, { headers: { ...auth(), accept: ACCEPT } });
  expect(res.status).toBe(200);
  const m = (await res.json()) as { config?: { digest: string }; layers?: { digest: string }[] };
  return { digest: res.headers.get("docker-content-digest")!, blobs: [m.config?.digest, ...(m.layers ?? []).map((l) => l.digest)].filter((d): d is string => Boolean(d)) };
}

async function deleteTag(host: string, repo: string, tag: string): Promise<void> {
  expect((await fetch(`http://${host}/v2/${slug}/${repo}/manifests/${tag}`, { method: "DELETE", headers: auth() })).status).toBe(202);
}

const status = async (repo: string, reference: string) => (await fetch(`http://${reg.host}/v2/${slug}/${repo}/manifests/${reference}`, { method: "HEAD", headers: { ...auth(), accept: ACCEPT } })).status;

async function pushBlob(repo: string, content: Buffer): Promise<void> {
  const res = await fetch(`http://${reg.host}/v2/${slug}/${repo}/blobs/uploads/?digest=${sha(content)}`, {
    method: "POST",
    headers: { ...auth(), "content-type": "application/octet-stream" },
    body: new Uint8Array(content),
  });
  expect(res.status).toBe(201);
}

/** An OCI 1.1 referrer (a signature) of `subject`, pushed by digest as signing tools do. */
async function pushReferrer(repo: string, subject: string): Promise<{ digest: string; signature: string }> {
  const empty = Buffer.from("{}");
  const signature = Buffer.from(`signature of ${subject} ${stamp}`);
  await pushBlob(repo, empty);
  await pushBlob(repo, signature);
  const body = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/vnd.example.signature",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha(empty), size: empty.length },
      layers: [{ mediaType: "application/octet-stream", digest: sha(signature), size: signature.length }],
      subject: { mediaType: OCI_MANIFEST, digest: subject, size: 1 },
    }),
  );
  const res = await fetch(`http://${reg.host}/v2/${slug}/${repo}/manifests/${sha(body)}`, { method: "PUT", headers: { ...auth(), "content-type": OCI_MANIFEST }, body: new Uint8Array(body) });
  expect(res.status).toBe(201);
  return { digest: sha(body), signature: sha(signature) };
}

const recorded = async (repo: string, digest: string) => (await db.registryManifest.count({ where: { app: { slug }, repository: repo, digest } })) === 1;

describe("registry gc --delete-untagged", () => {
  it("deletes a manifest whose tag was deleted in Gantry and frees its layer files; plain gc does not", async () => {
    const gone = await push(reg.host, "gone", "1", { "gone.txt": `gone ${stamp}\n` });
    await deleteTag(reg.host, "gone", "1");
    const counted = async () => (await db.registryBlob.findMany({ where: { teamId, digest: { in: [gone.digest, ...gone.blobs] } } })).length;
    expect(await counted()).toBe(1 + gone.blobs.length); // the quota counts the push

    // Distribution still has the tag Gantry deleted, and the manifest: its collector frees nothing.
    await collectGarbage({ configFile: reg.registry.distributionConfigFile!, settleMs: 0 });
    expect(gone.blobs.every(stored)).toBe(true);
    expect(await status("gone", gone.digest)).toBe(200);

    const report = await gc();
    expect(report).toMatchObject({ dryRun: false, deleteUntagged: true, deleteFailures: 0, repositoriesSkipped: 0 });
    expect(report.manifestsDeleted).toBeGreaterThanOrEqual(1);
    expect(gone.blobs.some(stored)).toBe(false);
    expect(stored(gone.digest)).toBe(false);
    expect(report.bytesFreed).toBeGreaterThan(0);
    expect(await status("gone", gone.digest)).toBe(404);
    expect(await recorded("gone", gone.digest)).toBe(false);
    // What the collector freed no longer counts against the team's quota.
    expect(report.usage).not.toBeNull();
    expect(await counted()).toBe(0);
    const event = await db.activityEvent.findFirst({ where: { teamId, action: "image.manifest_deleted", resourceId: `${slug}/gone@${gone.digest}` } });
    expect(event).toMatchObject({ actorType: "system", actorLabel: "garbage collection" });
  }, 120_000);

  it("keeps what a release lists, the platform manifests of a tagged index and the referrers of a kept manifest, with their layers", async () => {
    const shipped = await push(reg.host, "shipped", "1.0", { "shipped.txt": `shipped ${stamp}\n` });
    const release = await createRelease(ctx, slug, { version: "1.0.0", images: [`${env().registryDomain}/${slug}/shipped@${shipped.digest}`] });
    expect(release.images[0]?.status).toBe("vendor_registry");
    await deleteTag(reg.host, "shipped", "1.0");

    const index = await buildMultiArchIndex(`multi-${stamp}`);
    await run("skopeo", ["copy", "--quiet", "--all", "--dest-tls-verify=false", "--dest-creds", `${token}:${token}`, `oci:${index.layoutDir}:${index.tag}`, `docker://${reg.host}/${slug}/multi:1`]);
    const listed = (await (await fetch(`http://${reg.host}/v2/${slug}/multi/manifests/1`, { headers: { ...auth(), accept: ACCEPT } })).json()) as { manifests: { digest: string }[] };
    const platforms = await Promise.all(listed.manifests.map((m) => manifestOf(reg.host, "multi", m.digest)));
    expect(platforms).toHaveLength(2);

    const signed = await push(reg.host, "signed", "1", { "signed.txt": `signed ${stamp}\n` });
    const referrer = await pushReferrer("signed", signed.digest);

    // In the same run, an untagged manifest nothing keeps is deleted.
    const doomed = await push(reg.host, "doomed", "1", { "doomed.txt": `doomed ${stamp}\n` });
    await deleteTag(reg.host, "doomed", "1");

    const report = await gc();
    expect(report.deleteFailures).toBe(0);
    expect(doomed.blobs.some(stored)).toBe(false);

    expect(await status("shipped", shipped.digest)).toBe(200);
    expect(shipped.blobs.every(stored)).toBe(true);
    for (const p of platforms) {
      expect(await status("multi", p.digest)).toBe(200);
      expect(p.blobs.every(stored)).toBe(true);
    }
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-gc-pull-"));
    scratch.push(out);
    await run("skopeo", ["copy", "--quiet", "--all", "--src-tls-verify=false", "--src-creds", `${token}:${token}`, `docker://${reg.host}/${slug}/multi:1`, `oci:${out}:1`]);
    expect(await status("signed", referrer.digest)).toBe(200);
    expect(stored(referrer.signature)).toBe(true);
    const referrers = (await (await fetch(`http://${reg.host}/v2/${slug}/signed/referrers/${signed.digest}`, { headers: auth() })).json()) as { manifests: { digest: string }[] };
    expect(referrers.manifests.map((m) => m.digest)).toEqual([referrer.digest]);

    // Untagged, the index takes its platform manifests along, and the image its referrer.
    await deleteTag(reg.host, "multi", "1");
    await deleteTag(reg.host, "signed", "1");
    await gc();
    for (const p of platforms) {
      expect(await status("multi", p.digest)).toBe(404);
      expect(p.blobs.some(stored)).toBe(false);
    }
    expect(await status("signed", referrer.digest)).toBe(404);
    expect(stored(referrer.signature)).toBe(false);
    expect(await recorded("signed", referrer.digest)).toBe(false);
    expect(await status("shipped", shipped.digest)).toBe(200);
  }, 240_000);

  it("keeps nothing for another team's release that names this app's image", async () => {
    const stray = await push(reg.host, "stray", "1", { "stray.txt": `stray ${stamp}\n` });
    await deleteTag(reg.host, "stray", "1");
    const other = await signUp({ email: `gc-other-${stamp}@example.com`, password: "correct horse battery staple", teamName: "Other" });
    const otherCtx = await teamContextForUser(other.user, other.team.slug, "team:view");
    await createApp(otherCtx, { name: "Other", slug: `gc-other-${stamp}` });
    const release = await createRelease(otherCtx, `gc-other-${stamp}`, { version: "1.0.0", images: [`${env().registryDomain}/${slug}/stray@${stray.digest}`] });
    expect(release.images[0]?.status).toBe("vendor_registry");
    await gc();
    expect(await status("stray", stray.digest)).toBe(404);
    expect(stray.blobs.some(stored)).toBe(false);
  }, 120_000);

  it("with --dry-run deletes nothing and counts what the real run then frees", async () => {
    const dry = await push(reg.host, "dry", "1", { "dry.txt": `dry ${stamp}\n`.repeat(1000) });
    await deleteTag(reg.host, "dry", "1");
    const before = fs.readdirSync(path.join(blobsDir, "sha256")).length;

    const counted = await gc({ dryRun: true });
    expect(counted).toMatchObject({ dryRun: true, deleteUntagged: true, readOnlySeconds: 0 });
    expect(counted.manifestsDeleted).toBeGreaterThanOrEqual(1);
    expect(counted.blobsFreed).toBeGreaterThanOrEqual(3); // manifest, config, layer
    expect(dry.blobs.every(stored)).toBe(true);
    expect(stored(dry.digest)).toBe(true);
    expect(await status("dry", dry.digest)).toBe(200);
    expect(await recorded("dry", dry.digest)).toBe(true);
    expect(fs.readdirSync(path.join(blobsDir, "sha256")).length).toBe(before);

    const done = await gc();
    expect(dry.blobs.some(stored)).toBe(false);
    expect([done.manifestsDeleted, done.blobsFreed, done.bytesFreed]).toEqual([counted.manifestsDeleted, counted.blobsFreed, counted.bytesFreed]);
  }, 120_000);

  it("keeps an untagged manifest pushed within the last hour unless --min-age says less", async () => {
    const young = await push(reg.host, "young", "1", { "young.txt": `young ${stamp}\n` });
    await deleteTag(reg.host, "young", "1");
    await collectGarbage({ configFile: reg.registry.distributionConfigFile!, settleMs: 0, deleteUntagged: { backend } });
    expect(young.blobs.every(stored)).toBe(true);
    const report = await registryCommand(["gc", "--delete-untagged", "--min-age", "0", "--config", reg.registry.distributionConfigFile!]);
    expect(report.manifestsDeleted).toBeGreaterThanOrEqual(1);
    expect(young.blobs.some(stored)).toBe(false);
  }, 120_000);

  it("is refused while another collection holds the registry read-only", async () => {
    await setReadOnly(new Date(Date.now() + 60_000), "garbage collection");
    try {
      await expect(gc()).rejects.toThrow(/already read-only until .*another garbage collection/);
    } finally {
      await clearReadOnly();
    }
  });

  it("refuses a manifest push whose body was still arriving when writes turned off", async () => {
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] }, stamp }));
    await pushBlob("late", config);
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(config), size: config.length }, layers: [] }));
    const [hostname, port] = reg.host.split(":");
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ hostname, port: Number(port), method: "PUT", path: `/v2/${slug}/late/manifests/1`, headers: { ...auth(), "content-type": OCI_MANIFEST, "content-length": body.length } }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on("error", reject);
      req.write(body.subarray(0, 10));
      // Past the handler's read-only check, the body still arriving: writes turn off, then the rest comes.
      setTimeout(() => {
        void setReadOnly(new Date(Date.now() + 60_000), "garbage collection").then(() => setTimeout(() => req.end(body.subarray(10)), 1100));
      }, 300);
    });
    try {
      const res = await answer;
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body).errors[0].code).toBe("UNAVAILABLE");
    } finally {
      await clearReadOnly();
    }
    expect(await db.registryTag.count({ where: { app: { slug }, repository: "late" } })).toBe(0);
  }, 60_000);
});

describe("registry gc --delete-untagged with an operator-run distribution", () => {
  it("deletes through GANTRY_REGISTRY_BACKEND with the configured signing pair, and collects with that distribution's config", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-gc-operator-"));
    scratch.push(dir);
    const key = loadSigningKey(path.join(dir, "gantry"));
    const operator = new EmbeddedDistribution({ binary: findDistributionBinary()!, dir: path.join(dir, "operator"), certFile: key.certFile, realm: "https://unused.example/v2/token" });
    await operator.start();
    let registry: HostedRegistry | undefined;
    const server = http.createServer((req, res) => void registry?.handle(req, res, null));
    try {
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const address = server.address() as { port: number };
      const host = `127.0.0.1:${address.port}`;
      const started = await startHostedRegistry({ dir: path.join(dir, "gantry"), backend: operator.url, publicHost: host, secret: "test-secret-of-at-least-32-characters!!", realmFor: (req) => ({ realm: `http://${req.headers.host}/v2/token`, service: host }) });
      if (!started.registry) throw new Error(started.reason);
      registry = started.registry;
      // Nothing pushed yet: distribution's collector finds no repositories directory, which is nothing to collect.
      expect(await collectGarbage({ configFile: operator.configFile, dryRun: true })).toMatchObject({ blobsEligible: 0, blobsFreed: 0, bytesFreed: 0 });
      const pushed = await push(host, "operated", "1", { "operated.txt": `operated ${stamp}\n` });
      await deleteTag(host, "operated", "1");
      const operatorBlobs = path.join(dir, "operator", "storage", "docker", "registry", "v2", "blobs");
      expect(pushed.blobs.every((d) => fs.existsSync(blobFile(operatorBlobs, d)))).toBe(true);

      const signing = { keyFile: path.join(dir, "gantry", "token-signing.key"), certFile: key.certFile };
      const report = await collectGarbage({ configFile: operator.configFile, settleMs: 0, deleteUntagged: { backend: gcStorageBackend({ configFile: operator.configFile, backendUrl: operator.url, signing }), minAgeMs: 0 } });
      expect(report.manifestsDeleted).toBeGreaterThanOrEqual(1);
      expect(pushed.blobs.some((d) => fs.existsSync(blobFile(operatorBlobs, d)))).toBe(false);
    } finally {
      server.closeAllConnections();
      server.close();
      await registry?.stop();
      await operator.stop();
    }
  }, 120_000);
});
