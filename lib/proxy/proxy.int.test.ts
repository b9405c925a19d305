import { execFile } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { signUp } from "@/lib/auth/sign-up";
import { createApp } from "@/lib/apps/apps";
import { setExtraPatterns } from "@/lib/releases/scope";
import { createCustomer, restoreLicense, revokeLicense, setLicenseExpiry } from "@/lib/licenses/customers";
import { handleRegistryRequest } from "@/lib/proxy/handler";
import { flushPulls } from "@/lib/proxy/pull-log";
import { createRegistry } from "@/lib/registries/registries";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, buildMultiArchIndex, cleanupImages, pushImage } from "@/lib/testing/registries/images";

const run = promisify(execFile);
let basic: RunningRegistry;
let token: RunningRegistry;
let proxy: http.Server;
let proxyHost = "";
let ctx: TeamContext;
let licenseId = "";
let licenseRowId = "";
let otherAppLicense = "";
let tinyDigest = "";
const slug = `px-${Date.now().toString(36)}`;
const otherSlug = `px2-${Date.now().toString(36)}`;

beforeAll(async () => {
  [basic, token] = await Promise.all([startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } }), startRegistry({ auth: "token", users: { bob: "bob-pw" } })]);
  ({ digest: tinyDigest } = await pushImage(await buildImage({ files: { "tiny.txt": "tiny\n" } }), { registry: basic, repo: "acme/tiny", tag: "1.0", creds: "alice:alice-pw" }));
  await pushImage(await buildMultiArchIndex(), { registry: token, repo: "private/multi", tag: "v1", creds: "bob:bob-pw", all: true });
  proxy = http.createServer((req, res) => void handleRegistryRequest(req, res, { clientIp: req.socket.remoteAddress ?? null }));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyHost = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  const { user, team } = await signUp({ email: `proxy-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Proxy" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Proxy", slug });
  await createApp(ctx, { name: "Other", slug: otherSlug });
  // Scope (releases and patterns) is tested in lib/proxy/scope.int.test.ts; here every repository is in scope.
  await setExtraPatterns(ctx, slug, ["**"]);
  await createRegistry(ctx, { name: "Basic", endpoint: basic.url, username: "alice", password: "alice-pw" });
  await createRegistry(ctx, { name: "Token", endpoint: token.url, username: "bob", password: "bob-pw" });
  const c = await createCustomer(ctx, slug, { name: "Puller" });
  licenseId = c.license.licenseId;
  licenseRowId = c.license.id;
  otherAppLicense = (await createCustomer(ctx, otherSlug, { name: "Other app customer" })).license.licenseId;
});
afterAll(async () => {
  proxy.close();
  await stopAll();
  cleanupImages();
});

const basicPath = () => `proxy/${slug}/127.0.0.1_${basic.port}/acme/tiny`;
const skopeo = (args: string[]) => run("skopeo", args, { maxBuffer: 64 * 1024 * 1024 });
const auth = (id: string) => ({ authorization: `Basic ${Buffer.from(`LICENSE_ID:${id}`).toString("base64")}` });

describe("registry proxy with real clients and registries", () => {
  it("challenges anonymous clients with Bearer and serves skopeo with a license: byte-identical manifests and blobs", async () => {
    const anon = await fetch(`http://${proxyHost}/v2/`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get("www-authenticate")).toBe(`Bearer realm="http://${proxyHost}/v2/token",service="gantry.test:8443"`);
    expect(await anon.json()).toEqual({ errors: [{ code: "UNAUTHORIZED", message: expect.any(String), detail: null }] });

    const { stdout: viaProxy } = await skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", `LICENSE_ID:${licenseId}`, `docker://${proxyHost}/${basicPath()}:1.0`]);
    const { stdout: direct } = await skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", "alice:alice-pw", `docker://${basic.host}/acme/tiny:1.0`]);
    expect(viaProxy).toBe(direct);
    const { stdout: byDigest } = await skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", `${licenseId}:${licenseId}`, `docker://${proxyHost}/${basicPath()}@${tinyDigest}`]);
    expect(byDigest).toBe(direct);

    const dir = (await run("mktemp", ["-d"])).stdout.trim();
    await skopeo(["copy", "--src-tls-verify=false", "--src-creds", `LICENSE_ID:${licenseId}`, "--digestfile", `${dir}/d`, `docker://${proxyHost}/${basicPath()}:1.0`, `oci:${dir}/out:1.0`]);
    expect((await run("cat", [`${dir}/d`])).stdout.trim()).toBe(tinyDigest);
    await run("rm", ["-rf", dir]);
  });

  it("serves a public image of the token upstream too, identical to a direct anonymous pull", async () => {
    await pushImage(await buildImage({ files: { "pub.txt": "public\n" } }), { registry: token, repo: "public/tool", tag: "1", creds: "bob:bob-pw" });
    const { stdout: viaProxy } = await skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", `LICENSE_ID:${licenseId}`, `docker://${proxyHost}/proxy/${slug}/127.0.0.1_${token.port}/public/tool:1`]);
    const { stdout: direct } = await skopeo(["inspect", "--raw", "--tls-verify=false", "--no-creds", `docker://${token.host}/public/tool:1`]);
    expect(viaProxy).toBe(direct);
  });

  it("copies a multi-arch index with --all from the token upstream, digests unchanged", async () => {
    const name = `proxy/${slug}/127.0.0.1_${token.port}/private/multi`;
    const { stdout: viaProxy } = await skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", `LICENSE_ID:${licenseId}`, `docker://${proxyHost}/${name}:v1`]);
    expect(JSON.parse(viaProxy).mediaType).toBe("application/vnd.oci.image.index.v1+json");
    const dir = (await run("mktemp", ["-d"])).stdout.trim();
    await skopeo(["copy", "--all", "--src-tls-verify=false", "--src-creds", `LICENSE_ID:${licenseId}`, `docker://${proxyHost}/${name}:v1`, `oci:${dir}/multi:v1`]);
    const { stdout: direct } = await skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", "bob:bob-pw", `docker://${token.host}/private/multi:v1`]);
    expect(viaProxy).toBe(direct); // byte-identical index, so the digest is unchanged
    const copied = JSON.parse((await run("cat", [`${dir}/multi/index.json`])).stdout) as { manifests: { digest: string }[] };
    const directDigest = `sha256:${(await import("node:crypto")).createHash("sha256").update(direct).digest("hex")}`;
    expect(copied.manifests[0]?.digest).toBe(directDigest);
    await run("rm", ["-rf", dir]);
  });

  it("copies a ~200 MB image byte-identically (manifest and blob digests equal to a direct copy)", async () => {
    const big = await buildImage({ randomBytes: 200 * 1024 * 1024, files: { "big.txt": "big\n" } });
    const { digest } = await pushImage(big, { registry: basic, repo: "acme/big", tag: "1.0", creds: "alice:alice-pw" });
    const dir = (await run("mktemp", ["-d"])).stdout.trim();
    await skopeo(["copy", "--src-tls-verify=false", "--src-creds", `LICENSE_ID:${licenseId}`, "--digestfile", `${dir}/via.digest`, `docker://${proxyHost}/proxy/${slug}/127.0.0.1_${basic.port}/acme/big:1.0`, `oci:${dir}/via:1.0`]);
    await skopeo(["copy", "--src-tls-verify=false", "--src-creds", "alice:alice-pw", "--digestfile", `${dir}/direct.digest`, `docker://${basic.host}/acme/big:1.0`, `oci:${dir}/direct:1.0`]);
    expect((await run("cat", [`${dir}/via.digest`])).stdout.trim()).toBe(digest);
    expect((await run("cat", [`${dir}/direct.digest`])).stdout.trim()).toBe(digest);
    const blobs = async (layout: string) => (await run("ls", [`${dir}/${layout}/blobs/sha256`])).stdout.split("\n").filter(Boolean).sort();
    expect(await blobs("via")).toEqual(await blobs("direct"));
    expect((await blobs("via")).length).toBeGreaterThanOrEqual(3);
    await run("rm", ["-rf", dir]);
  }, 120_000);

  it("answers HEAD with headers and no body, and Range with 206", async () => {
    const head = await fetch(`http://${proxyHost}/v2/${basicPath()}/manifests/1.0`, { method: "HEAD", headers: { ...auth(licenseId), accept: MANIFEST_ACCEPT } });
    expect(head.status).toBe(200);
    expect(head.headers.get("docker-content-digest")).toBe(tinyDigest);
    expect(Number(head.headers.get("content-length"))).toBeGreaterThan(100);
    expect(await head.text()).toBe("");
    const manifest = (await (await fetch(`http://${proxyHost}/v2/${basicPath()}/manifests/1.0`, { headers: { ...auth(licenseId), accept: MANIFEST_ACCEPT } })).json()) as { layers: { digest: string; size: number }[] };
    const layer = manifest.layers[0];
    if (!layer) throw new Error("no layer");
    // A Range request with curl, a real client.
    const { stdout } = await run("curl", ["-s", "-o", "/dev/null", "-D", "-", "-w", "%{size_download}", "-u", `LICENSE_ID:${licenseId}`, "-H", "Range: bytes=0-9", `http://${proxyHost}/v2/${basicPath()}/blobs/${layer.digest}`]);
    expect(stdout).toMatch(/^HTTP\/1\.1 206/);
    expect(stdout.toLowerCase()).toContain(`content-range: bytes 0-9/${layer.size}`);
    expect(stdout.trim().endsWith("10")).toBe(true);
    const tags = await fetch(`http://${proxyHost}/v2/${basicPath()}/tags/list`, { headers: auth(licenseId) });
    expect(await tags.json()).toEqual({ name: basicPath(), tags: ["1.0"] });
  });

  it("cuts a customer off at once on revocation, even with a token issued before, and lets them back on restore", async () => {
    const tokenRes = await fetch(`http://${proxyHost}/v2/token?service=x&scope=repository:${basicPath()}:pull`, { headers: auth(licenseId) });
    const { token: bearer } = (await tokenRes.json()) as { token: string };
    const withToken = () => fetch(`http://${proxyHost}/v2/${basicPath()}/manifests/1.0`, { method: "HEAD", headers: { authorization: `Bearer ${bearer}`, accept: MANIFEST_ACCEPT } });
    expect((await withToken()).status).toBe(200);
    await revokeLicense(ctx, licenseRowId, "test");
    const started = Date.now();
    const denied = await fetch(`http://${proxyHost}/v2/${basicPath()}/manifests/1.0`, { headers: { authorization: `Bearer ${bearer}`, accept: MANIFEST_ACCEPT } });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ errors: [{ code: "UNAUTHORIZED", message: expect.stringMatching(/revoked.*Contact your vendor/), detail: null }] });
    await expect(skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", `LICENSE_ID:${licenseId}`, `docker://${proxyHost}/${basicPath()}:1.0`])).rejects.toThrow(/revoked/);
    await restoreLicense(ctx, licenseRowId);
    expect((await withToken()).status).toBe(200);
  });

  it("denies expired licenses and another app's license, and refuses unknown upstreams, traversal and push", async () => {
    await setLicenseExpiry(ctx, licenseRowId, new Date(Date.now() - 1000));
    const expired = await fetch(`http://${proxyHost}/v2/${basicPath()}/manifests/1.0`, { headers: auth(licenseId) });
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { errors: { message: string }[] }).errors[0]?.message).toMatch(/expired/);
    await setLicenseExpiry(ctx, licenseRowId, null);

    const wrongApp = await fetch(`http://${proxyHost}/v2/${basicPath()}/manifests/1.0`, { headers: auth(otherAppLicense) });
    expect(wrongApp.status).toBe(403);
    expect(((await wrongApp.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe("DENIED");

    const unknown = await fetch(`http://${proxyHost}/v2/proxy/${slug}/nowhere.example/acme/tiny/manifests/1.0`, { headers: auth(licenseId) });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe("NAME_UNKNOWN");
    for (const p of [`/v2/proxy/${slug}/../../x/manifests/1`, `/v2/proxy/${slug}/%2e%2e/x/manifests/1`, `/v2/proxy/${slug}//x/manifests/1`, `/v2/proxy/${slug}/${"a/".repeat(140)}x/manifests/1`]) {
      const res = await new Promise<number>((resolve) => {
        http.get({ host: "127.0.0.1", port: Number(proxyHost.split(":")[1]), path: p, headers: auth(licenseId) }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        });
      });
      expect([400, 404], p).toContain(res);
    }
    const push = await fetch(`http://${proxyHost}/v2/${basicPath()}/blobs/uploads/`, { method: "POST", headers: auth(licenseId) });
    expect(push.status).toBe(405);
    expect(((await push.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe("UNSUPPORTED");
    const garbage = await fetch(`http://${proxyHost}/v2/token?scope=repository:${basicPath()}:pull`, { headers: auth("garbage-not-a-license") });
    expect(garbage.status).toBe(401);
  });

  it("logs each pull with license, repository, status, bytes and client", async () => {
    await fetch(`http://${proxyHost}/v2/${basicPath()}/manifests/1.0`, { headers: { ...auth(licenseId), accept: MANIFEST_ACCEPT, "user-agent": "gantry-test/1" } });
    await new Promise((r) => setTimeout(r, 50)); // the response's close event queues the record
    await flushPulls();
    const pulls = await db.pullEvent.findMany({ where: { licenseId: licenseRowId }, orderBy: { createdAt: "desc" } });
    expect(pulls.length).toBeGreaterThan(3);
    expect(pulls[0]).toMatchObject({ repository: "acme/tiny", kind: "manifests", reference: "1.0", method: "GET", status: 200, userAgent: "gantry-test/1", clientIp: "127.0.0.1" });
    expect(pulls[0]?.bytesSent).toBeGreaterThan(100);
  });
});
