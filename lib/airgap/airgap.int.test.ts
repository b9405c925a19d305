import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { createApiToken } from "@/lib/api-tokens/tokens";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { db } from "@/lib/db";
import { resetProxyCacheForTests } from "@/lib/cache/cache";
import { env, resetEnvForTests } from "@/lib/env";
import { createCustomer, revokeLicense } from "@/lib/licenses/customers";
import { flushPulls } from "@/lib/proxy/pull-log";
import { createRegistry } from "@/lib/registries/registries";
import { createRelease } from "@/lib/releases/releases";
import { setLicensePin } from "@/lib/releases/scope";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startTestHostedRegistry, type TestHostedRegistry } from "@/lib/testing/hosted-registry";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, buildMultiArchIndex, cleanupImages, pushImage } from "@/lib/testing/registries/images";
import { handleAirgapRequest } from "./http";
import { warmRelease } from "./warm";

const run = promisify(execFile);

/**
 * An air-gap bundle end to end, on real registries and real clients: a
 * release with a private image behind the vendor's registry, a multi-arch
 * index, a public image and an image on Gantry's own registry; downloaded
 * with curl (whole, and interrupted then resumed with Range), unpacked with
 * tar, pushed into a fresh distribution with the bundle's push.sh (skopeo),
 * pulled back and compared by digest, and the overlay push.sh wrote rendered
 * with `kubectl kustomize`. Revoked and out-of-pin licenses are refused; the
 * download is in the pull log with its bytes.
 */
let vendor: RunningRegistry;
let publicReg: RunningRegistry;
let fresh: RunningRegistry;
let hosted: TestHostedRegistry;
let server: http.Server;
let base = "";
let ctx: TeamContext;
const stamp = Date.now().toString(36);
const slug = `gap-${stamp}`;
const licenses = { paid: "", revoked: "", pinned: "" };
const secrets = { paid: "", revoked: "", pinned: "" };
let paidCustomer = "";
let ownerId = "";
const digests: Record<string, string> = {};
let work = "";
let auth: Record<string, string> = {};

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-airgap-"));
  vendor = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
  publicReg = await startRegistry({ auth: "none" });
  fresh = await startRegistry({ auth: "none" });
  hosted = await startTestHostedRegistry({ publicHost: env().registryDomain });

  digests.api = (await pushImage(await buildImage({ files: { "api.txt": "api\n" }, randomBytes: 3 * 1024 * 1024 }), { registry: vendor, repo: "acme/api", tag: "1.0.0", creds: "alice:alice-pw" })).digest;
  digests.multi = (await pushImage(await buildMultiArchIndex("multi"), { registry: vendor, repo: "acme/multi", tag: "1.0.0", creds: "alice:alice-pw", all: true })).digest;
  digests.pub = (await pushImage(await buildImage({ files: { "pub.txt": "public\n" } }), { registry: publicReg, repo: "library/pub", tag: "2.1" })).digest;

  const { user, team } = await signUp({ email: `gap-${stamp}@example.com`, password: "correct horse battery staple", teamName: "Air Gap" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Air Gap Suite", slug });
  const token = (await createApiToken(ctx, { name: "push", role: "admin" })).token;
  auth = { authorization: `Bearer ${token}` };
  const own = await buildImage({ files: { "own.txt": "on gantry\n" } });
  await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", `${token}:${token}`, "--digestfile", path.join(work, "own.digest"), `oci:${own.layoutDir}:${own.tag}`, `docker://${hosted.host}/${slug}/worker:3.0`]);
  digests.own = fs.readFileSync(path.join(work, "own.digest"), "utf8").trim();

  await createRegistry(ctx, { name: "Vendor", endpoint: vendor.url, username: "alice", password: "alice-pw" });
  const manifests = [
    {
      name: "app.yaml",
      content: ["api", "multi", "pub", "worker"]
        .map((n, i) => {
          const image = [`${vendor.host}/acme/api:1.0.0`, `${vendor.host}/acme/multi:1.0.0`, `${publicReg.host}/library/pub:2.1`, `${env().registryDomain}/${slug}/worker:3.0`][i];
          return `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${n}\nspec:\n  template:\n    spec:\n      containers:\n        - name: ${n}\n          image: ${image}\n`;
        })
        .join("---\n"),
    },
  ];
  const release = await createRelease(ctx, slug, { version: "1.0.0", files: manifests });
  const status = Object.fromEntries(release.images.map((i) => [i.image.split("/").pop(), i.status]));
  expect(status).toEqual({ "api:1.0.0": "private", "multi:1.0.0": "private", "pub:2.1": "public", "worker:3.0": "vendor_registry" });

  const paid = await createCustomer(ctx, slug, { name: "Bank" });
  licenses.paid = paid.license.id;
  secrets.paid = paid.license.licenseId;
  paidCustomer = paid.id;
  ownerId = user.id;
  const gone = await createCustomer(ctx, slug, { name: "Gone" });
  licenses.revoked = gone.license.id;
  secrets.revoked = gone.license.licenseId;
  await revokeLicense(ctx, licenses.revoked, "contract ended");
  const trial = await createCustomer(ctx, slug, { name: "Trial", type: "trial" });
  licenses.pinned = trial.license.id;
  secrets.pinned = trial.license.licenseId;
  await setLicensePin(ctx, licenses.pinned, { maxVersion: "0.9.0" });

  // The download as Gantry's server serves it (beside Next), through the vendor API's door.
  server = http.createServer((req, res) => void handleAirgapRequest(req, res, "203.0.113.9"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/apps/${slug}/releases/1.0.0/airgap`;
}, 240_000);

afterAll(async () => {
  server?.close();
  await hosted?.stop();
  await stopAll();
  cleanupImages();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const sha256File = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
const curl = (...args: string[]) => run("curl", ["-sS", "--fail", "-H", `authorization: ${auth.authorization}`, ...args], { maxBuffer: 1024 * 1024 });
const get = (url: string, init: { method?: string; headers?: Record<string, string> } = {}) => fetch(url, { ...init, headers: { ...auth, ...init.headers } });

describe("an air-gap bundle", () => {
  let whole = "";

  it("downloads whole with its size and ETag known up front, and the same request gives the same bytes", async () => {
    const head = await get(`${base}?license=${licenses.paid}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    const size = Number(head.headers.get("content-length"));
    expect(size).toBeGreaterThan(3 * 1024 * 1024);
    expect(head.headers.get("etag")).toMatch(/^"sha256:[a-f0-9]{64}"$/);
    expect(head.headers.get("accept-ranges")).toBe("bytes");
    whole = path.join(work, "whole.tar");
    await curl("-o", whole, `${base}?license=${licenses.paid}`);
    expect(fs.statSync(whole).size).toBe(size);
    const again = path.join(work, "again.tar");
    await curl("-o", again, `${base}?license=${licenses.paid}`);
    expect(sha256File(again)).toBe(sha256File(whole));
  }, 120_000);

  it("resumes an interrupted download with Range: the joined file is the whole one, byte for byte", async () => {
    const size = fs.statSync(whole).size;
    const etag = (await get(`${base}?license=${licenses.paid}`, { method: "HEAD" })).headers.get("etag")!;
    const part = path.join(work, "part.tar");
    // The first half, as a download cut off midway leaves it; then curl resumes from the file's length.
    await curl("-r", `0-${Math.floor(size / 2)}`, "-o", part, `${base}?license=${licenses.paid}`);
    expect(fs.statSync(part).size).toBe(Math.floor(size / 2) + 1);
    await curl("-C", "-", "-H", `if-range: ${etag}`, "-o", part, `${base}?license=${licenses.paid}`);
    expect(sha256File(part)).toBe(sha256File(whole));
    // As the README says: with a stale ETag curl refuses to resume (the server answers the whole archive) instead of splicing.
    const stale2 = path.join(work, "stale.tar");
    await curl("-r", "0-999", "-o", stale2, `${base}?license=${licenses.paid}`);
    expect(await curl("-C", "-", "-H", 'if-range: "sha256:changed"', "-o", stale2, `${base}?license=${licenses.paid}`).then(() => 0, (e: { code?: number }) => e.code)).toBe(33);
    // A resume against another bundle (If-Range with a stale ETag) gets the whole archive, not a splice.
    const stale = await get(`${base}?license=${licenses.paid}`, { headers: { range: "bytes=100-", "if-range": '"sha256:0000"' } });
    expect(stale.status).toBe(200);
    await stale.body?.cancel();
    const beyond = await get(`${base}?license=${licenses.paid}`, { headers: { range: `bytes=${size + 10}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${size}`);
  }, 120_000);

  it("unpacks into an OCI layout push.sh copies into a fresh registry, digests intact, with an overlay pointing there", async () => {
    const out = path.join(work, "unpacked");
    fs.mkdirSync(out);
    await run("tar", ["-xf", whole, "-C", out]);
    const root = path.join(out, `${slug}-1.0.0`);
    const index = JSON.parse(fs.readFileSync(path.join(root, "images", "index.json"), "utf8")) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(index.manifests.map((m) => m.digest).sort()).toEqual([digests.api, digests.multi, digests.pub, digests.own].sort());
    const listed = JSON.parse(fs.readFileSync(path.join(root, "images.json"), "utf8")) as { source: string; target: string; tag: string; digest: string; platforms: string[] }[];
    expect(listed.find((i) => i.digest === digests.multi)?.platforms.sort()).toEqual(["linux/amd64", "linux/arm64"]);
    expect((fs.statSync(path.join(root, "push.sh")).mode & 0o777).toString(8)).toBe("755");

    const prefix = `${fresh.host}/customer`;
    await run("bash", [path.join(root, "push.sh"), "--dest-tls-verify=false", prefix], { cwd: os.tmpdir(), maxBuffer: 16 * 1024 * 1024 });
    for (const image of listed) {
      // Pulled back from the customer's registry: the very manifest the vendor shipped (every platform of the index too).
      const { stdout } = await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${prefix}/${image.target}:${image.tag}`], { encoding: "buffer", maxBuffer: 16 * 1024 * 1024 });
      expect(`sha256:${crypto.createHash("sha256").update(stdout).digest("hex")}`).toBe(image.digest);
      const copy = path.join(work, `pulled-${image.target.replace(/\//g, "_")}`);
      await run("skopeo", ["copy", "--quiet", "--all", "--src-tls-verify=false", `docker://${prefix}/${image.target}:${image.tag}`, `oci:${copy}:x`], { maxBuffer: 16 * 1024 * 1024 });
    }

    const rendered = (await run("kubectl", ["kustomize", path.join(root, "overlays", "airgap")], { maxBuffer: 16 * 1024 * 1024 })).stdout;
    const images = YAML.parseAllDocuments(rendered).flatMap((d) => ((d.toJS() as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec.containers ?? []).map((c) => c.image));
    expect(images).toHaveLength(4);
    for (const image of images) expect(image.startsWith(`${prefix}/`)).toBe(true);
  }, 240_000);

  it("leaves public images out when asked", async () => {
    const res = await get(`${base}?license=${licenses.paid}&public=false`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get("content-length"))).toBeLessThan(fs.statSync(whole).size);
  });

  it("refuses a revoked license and a license pinned below the release", async () => {
    const revoked = await get(`${base}?license=${licenses.revoked}`);
    expect(revoked.status).toBe(403);
    expect(((await revoked.json()) as { error: { message: string } }).error.message).toContain("revoked");
    const pinned = await get(`${base}?license=${licenses.pinned}`);
    expect(pinned.status).toBe(403);
    expect(((await pinned.json()) as { error: { message: string } }).error.message).toContain("up to 0.9.0");
    // No token, or another team's license: the API's own answers.
    expect((await fetch(`${base}?license=${licenses.paid}`)).status).toBe(401);
    const other = await signUp({ email: `gap-other-${stamp}@example.com`, password: "correct horse battery staple", teamName: "Other" });
    const otherCtx = await teamContextForUser(other.user, other.team.slug, "team:view");
    await createApp(otherCtx, { name: "Other", slug: `${slug}-o` });
    const theirs = (await createCustomer(otherCtx, `${slug}-o`, { name: "Theirs" })).license.id;
    expect((await get(`${base}?license=${theirs}`)).status).toBe(404);
  });

  it("records each download in the license's pull log with its bytes", async () => {
    await flushPulls();
    const rows = await db.pullEvent.findMany({ where: { licenseId: licenses.paid, kind: "airgap" }, select: { reference: true, method: true, status: true, bytesSent: true } });
    const size = fs.statSync(whole).size;
    expect(rows.filter((r) => r.method === "GET" && r.status === 200 && Number(r.bytesSent) === size).length).toBeGreaterThanOrEqual(2);
    expect(rows.some((r) => r.status === 206 && Number(r.bytesSent) === Math.floor(size / 2) + 1)).toBe(true);
    expect(rows.every((r) => r.reference === "1.0.0")).toBe(true);
  });

  it("stops short when a registry lies about a layer it streams uncached: never a whole archive with a wrong layer", async () => {
    // The public image is streamed from its registry, not cached: change its largest blob's bytes on disk, keeping the size.
    const blobs = path.join(publicReg.dir, "storage", "docker", "registry", "v2", "blobs", "sha256");
    const files = fs.readdirSync(blobs).flatMap((d) => fs.readdirSync(path.join(blobs, d)).map((h) => path.join(blobs, d, h, "data")));
    const layer = files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]!;
    const original = fs.readFileSync(layer);
    const lie = Buffer.from(original);
    lie[lie.length >> 1]! ^= 0xff;
    fs.writeFileSync(layer, lie);
    try {
      const cut = path.join(work, "cut.tar");
      const failed = await curl("-o", cut, `${base}?license=${licenses.paid}`).then(
        () => null,
        (e: { code?: number }) => e,
      );
      expect(failed?.code).toBe(18); // curl: "partial file", fewer bytes than Content-Length
      expect(fs.statSync(cut).size).toBeLessThan(fs.statSync(whole).size);
    } finally {
      fs.writeFileSync(layer, original);
    }
  }, 120_000);

  it("airgap warm fills the cache with the private images: the bundle downloads whole with the vendor's registry gone", async () => {
    const report = await warmRelease(ctx.team.id, slug, "1.0.0", { concurrency: 2 });
    expect(report).toMatchObject({ images: 2, skipped: { public: 1, onGantryRegistry: 1 }, notCached: 0 });
    expect(report.blobs).toBeGreaterThanOrEqual(6); // api: manifest, config, layer; the index, two platform manifests, their configs and layers
    expect(report.bytes).toBeGreaterThan(3 * 1024 * 1024);
    await vendor.stop();
    try {
      const offline = path.join(work, "offline.tar");
      await curl("-o", offline, `${base}?license=${licenses.paid}`);
      expect(sha256File(offline)).toBe(sha256File(whole));
    } finally {
      await vendor.restart();
    }
  }, 120_000);

  it("carries only the release's platforms of a multi-arch image (a narrowed index push.sh copies whole, with its own digest), and no public image when the release says so", async () => {
    await createRelease(ctx, slug, { version: "1.1.0", images: [`${vendor.host}/acme/multi:1.0.0`, `${publicReg.host}/library/pub:2.1`], platforms: ["linux/amd64"], airgapPublic: false });
    const url = `${base.replace("/1.0.0/", "/1.1.0/")}?license=${licenses.paid}`;
    const file = path.join(work, "narrow.tar");
    await curl("-o", file, url);
    const out = path.join(work, "narrow");
    fs.mkdirSync(out);
    await run("tar", ["-xf", file, "-C", out]);
    const root = path.join(out, `${slug}-1.1.0`);
    const listed = JSON.parse(fs.readFileSync(path.join(root, "images.json"), "utf8")) as { target: string; tag: string; digest: string; platforms: string[] }[];
    expect(listed).toHaveLength(1); // the public image is left out
    const [image] = listed;
    expect(image!.platforms).toEqual(["linux/amd64"]);
    expect(image!.digest).not.toBe(digests.multi);
    const prefix = `${fresh.host}/narrow`;
    await run("bash", [path.join(root, "push.sh"), "--dest-tls-verify=false", prefix], { maxBuffer: 16 * 1024 * 1024 });
    const { stdout } = await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${prefix}/${image!.target}:${image!.tag}`], { encoding: "buffer", maxBuffer: 16 * 1024 * 1024 });
    expect(`sha256:${crypto.createHash("sha256").update(stdout).digest("hex")}`).toBe(image!.digest);
    const pushed = JSON.parse(stdout.toString()) as { manifests: { platform: { architecture: string } }[] };
    expect(pushed.manifests.map((m) => m.platform.architecture)).toEqual(["amd64"]);
    // Everything it names is there: a full copy back out succeeds.
    await run("skopeo", ["copy", "--quiet", "--all", "--src-tls-verify=false", `docker://${prefix}/${image!.target}:${image!.tag}`, `oci:${path.join(work, "narrow-back")}:x`], { maxBuffer: 16 * 1024 * 1024 });
    expect(fs.statSync(file).size).toBeLessThan(fs.statSync(whole).size);
  }, 120_000);

  it("each door checks its own caller: the vendor's session on the release page, the license on the install page, the API token's role", async () => {
    const origin = new URL(base).origin;
    const head = (path: string, headers: Record<string, string> = {}) => fetch(`${origin}${path}`, { method: "HEAD", headers });
    // The release page's door: the portal session (an Auth.js JWT cookie, as the sign-in sets it).
    const session = async (uid: string) => `authjs.session-token=${await encode({ token: { uid, sub: uid }, secret: env().authSecret, salt: "authjs.session-token" })}`;
    const portal = `/t/${ctx.team.slug}/apps/${slug}/releases/1.0.0/airgap?customer=${paidCustomer}`;
    const owner = await head(portal, { cookie: await session(ownerId) });
    expect(owner.status).toBe(200);
    expect(owner.headers.get("content-length")).toBe(String(fs.statSync(whole).size));
    const none = await head(portal);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBeNull(); // a vendor is sent to sign in, never asked for a password
    const outsider = await signUp({ email: `gap-outsider-${stamp}@example.com`, password: "correct horse battery staple", teamName: "Outsider" });
    expect((await head(portal, { cookie: await session(outsider.user.id) })).status).toBe(404);
    const forged = (await session(ownerId)).replace(/.{8}$/, "AAAAAAAA");
    expect((await head(portal, { cookie: forged })).status).toBe(401);
    // The install page's door: the license ID as a Basic password.
    const basic = (id: string) => ({ authorization: `Basic ${Buffer.from(`LICENSE_ID:${id}`).toString("base64")}` });
    const install = "/install/releases/1.0.0/airgap";
    expect((await head(install, basic(secrets.paid))).status).toBe(200);
    const wrong = await head(install, basic(secrets.paid.replace(/.$/, (c) => (c === "a" ? "b" : "a"))));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toContain("Basic");
    expect((await head(install, basic(secrets.revoked))).status).toBe(403);
    expect((await head(install, basic(secrets.pinned))).status).toBe(404); // beyond the pin: no such release, as on the page
    // The API: a member's token may not download (the bundle holds the license ID).
    const member = (await createApiToken(ctx, { name: "read", role: "member" })).token;
    expect((await fetch(`${base}?license=${licenses.paid}`, { method: "HEAD", headers: { authorization: `Bearer ${member}` } })).status).toBe(403);
  });

  it("a private layer the cache will not keep is checked as it streams: a lying registry cuts the download short", async () => {
    // A cache of 4 MiB in a new directory: the 3 MiB layer is over half of it, so the fill is refused and the layer passes through.
    process.env.GANTRY_CACHE_MAX_BYTES = String(4 * 1024 * 1024);
    process.env.GANTRY_CACHE_DIR = path.join(work, "small-cache");
    resetEnvForTests();
    resetProxyCacheForTests();
    const blobs = path.join(vendor.dir, "storage", "docker", "registry", "v2", "blobs", "sha256");
    const files = fs.readdirSync(blobs).flatMap((d) => fs.readdirSync(path.join(blobs, d)).map((h) => path.join(blobs, d, h, "data")));
    const layer = files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]!;
    const original = fs.readFileSync(layer);
    try {
      const passed = path.join(work, "passed.tar");
      await curl("-o", passed, `${base}?license=${licenses.paid}`);
      expect(sha256File(passed)).toBe(sha256File(whole)); // honest bytes pass through whole
      const lie = Buffer.from(original);
      lie[lie.length >> 1]! ^= 0xff;
      fs.writeFileSync(layer, lie);
      const cut = path.join(work, "cut-private.tar");
      expect(await curl("-o", cut, `${base}?license=${licenses.paid}`).then(() => 0, (e: { code?: number }) => e.code)).toBe(18);
    } finally {
      fs.writeFileSync(layer, original);
      delete process.env.GANTRY_CACHE_MAX_BYTES;
      delete process.env.GANTRY_CACHE_DIR;
      resetEnvForTests();
      resetProxyCacheForTests();
    }
  }, 120_000);
});
