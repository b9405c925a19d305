import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "@/lib/api-tokens/tokens";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { createCustomer } from "@/lib/licenses/customers";
import { setExtraPatterns } from "@/lib/releases/scope";
import { teamContextForUser } from "@/lib/teams/access";
import { startContainerd, stopAllContainerd, type RunningContainerd } from "@/lib/testing/containerd";
import { startTestHostedRegistry, type TestHostedRegistry } from "@/lib/testing/hosted-registry";
import { buildImage, cleanupImages } from "@/lib/testing/registries/images";
import { collectGarbage } from "./gc";
import { clearReadOnly, setReadOnly } from "./read-only";
import { STORAGE_ISSUER, STORAGE_SERVICE } from "./signing";

const run = promisify(execFile);

/**
 * The storage side of Gantry's own registry: distribution accepts nobody but
 * Gantry, a 200 MB layer goes up in chunks, containerd pushes and pulls, and
 * garbage collection runs with the registry read-only.
 */
let reg: TestHostedRegistry;
let cd: RunningContainerd;
const stamp = Date.now().toString(36);
const slug = `store-${stamp}`;
let adminToken = "";
let licenseId = "";
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;

beforeAll(async () => {
  [reg, cd] = await Promise.all([startTestHostedRegistry(), startContainerd()]);
  const { user, team } = await signUp({ email: `store-${stamp}@example.com`, password: "correct horse battery staple", teamName: "Storage" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Storage Suite", slug });
  await setExtraPatterns(ctx, slug, ["**"]);
  adminToken = (await createApiToken(ctx, { name: "ci", role: "admin" })).token;
  licenseId = (await createCustomer(ctx, slug, { name: "Customer" })).license.licenseId;
}, 120_000);

afterAll(async () => {
  await clearReadOnly();
  await stopAllContainerd();
  await reg?.stop();
  cleanupImages();
});

describe("distribution accepts only Gantry", () => {
  it("refuses a request that bypasses Gantry: anonymous, with a token signed by another key, and listens on loopback only", async () => {
    const origin = reg.registry.storageOrigin();
    expect(new URL(origin).hostname).toBe("127.0.0.1");
    const anonymous = await fetch(`${origin}/v2/`);
    expect(anonymous.status).toBe(401);
    // A well-formed token for distribution's issuer and service, signed by a key it does not trust.
    const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    const forged = await new SignJWT({ access: [{ type: "repository", name: "anything", actions: ["pull", "push"] }] })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: "AAAA:BBBB:CCCC:DDDD:EEEE:FFFF:GGGG:HHHH:IIII:JJJJ:KKKK:LLLL" })
      .setIssuer(STORAGE_ISSUER)
      .setAudience(STORAGE_SERVICE)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
    const withForged = await fetch(`${origin}/v2/anything/blobs/uploads/`, { method: "POST", headers: { authorization: `Bearer ${forged}` } });
    expect(withForged.status).toBe(401);
    // Gantry's own client credentials mean nothing to distribution either.
    const withBasic = await fetch(`${origin}/v2/`, { headers: { authorization: basic(adminToken, adminToken) } });
    expect(withBasic.status).toBe(401);
    const config = JSON.parse(fs.readFileSync(reg.registry.distributionConfigFile!, "utf8")) as { http: { addr: string }; auth: { token: { rootcertbundle: string } } };
    expect(config.http.addr).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(fs.readFileSync(config.auth.token.rootcertbundle, "utf8").match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
  });
});

describe("a 200 MB layer in chunks", () => {
  it("uploads 200 MiB in 16 MiB chunks (Content-Range), then streams it back with the same digest", async () => {
    const size = 200 * 1024 * 1024;
    const chunk = 16 * 1024 * 1024;
    const hash = crypto.createHash("sha256");
    const pieces: Buffer[] = [];
    for (let off = 0; off < size; off += chunk) {
      const piece = crypto.randomBytes(Math.min(chunk, size - off));
      hash.update(piece);
      pieces.push(piece);
    }
    const digest = `sha256:${hash.digest("hex")}`;
    const auth = { authorization: basic(adminToken, adminToken) };
    const base = `http://${reg.host}`;
    let res = await fetch(`${base}/v2/${slug}/big/blobs/uploads/`, { method: "POST", headers: auth });
    expect(res.status).toBe(202);
    let location = new URL(res.headers.get("location")!, base).href;
    let off = 0;
    for (const piece of pieces) {
      res = await fetch(location, {
        method: "PATCH",
        headers: { ...auth, "content-type": "application/octet-stream", "content-range": `${off}-${off + piece.length - 1}`, "content-length": String(piece.length) },
        body: new Uint8Array(piece),
      });
      expect(res.status).toBe(202);
      off += piece.length;
      expect(res.headers.get("range")).toBe(`0-${off - 1}`);
      location = new URL(res.headers.get("location")!, base).href;
    }
    const close = new URL(location);
    close.searchParams.set("digest", digest);
    res = await fetch(close, { method: "PUT", headers: { ...auth, "content-length": "0" } });
    expect(res.status).toBe(201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);

    const get = await fetch(`${base}/v2/${slug}/big/blobs/${digest}`, { headers: auth });
    expect(get.status).toBe(200);
    expect(get.headers.get("content-length")).toBe(String(size));
    const back = crypto.createHash("sha256");
    for await (const part of get.body as unknown as AsyncIterable<Uint8Array>) back.update(part);
    expect(`sha256:${back.digest("hex")}`).toBe(digest);
  }, 180_000);
});

describe("blobs read from the embedded storage's files", () => {
  it("answers HEAD, GET, a Range (206) and an unsatisfiable one (416) from disk, and a blob deleted from the repository is 404", async () => {
    const auth = { authorization: basic(adminToken, adminToken) };
    const content = crypto.randomBytes(1000);
    const digest = `sha256:${crypto.createHash("sha256").update(content).digest("hex")}`;
    const base = `http://${reg.host}/v2/${slug}/disk`;
    const put = await fetch(`${base}/blobs/uploads/?digest=${digest}`, { method: "POST", headers: { ...auth, "content-type": "application/octet-stream" }, body: new Uint8Array(content) });
    expect(put.status).toBe(201);
    const head = await fetch(`${base}/blobs/${digest}`, { method: "HEAD", headers: auth });
    expect([head.status, head.headers.get("content-length"), head.headers.get("docker-content-digest")]).toEqual([200, "1000", digest]);
    const whole = await fetch(`${base}/blobs/${digest}`, { headers: auth });
    expect(Buffer.from(await whole.arrayBuffer()).equals(content)).toBe(true);
    const part = await fetch(`${base}/blobs/${digest}`, { headers: { ...auth, range: "bytes=5-9" } });
    expect([part.status, part.headers.get("content-range")]).toEqual([206, "bytes 5-9/1000"]);
    expect(Buffer.from(await part.arrayBuffer()).equals(content.subarray(5, 10))).toBe(true);
    const past = await fetch(`${base}/blobs/${digest}`, { headers: { ...auth, range: "bytes=5000-" } });
    expect([past.status, past.headers.get("content-range")]).toEqual([416, "bytes */1000"]);
    // The same digest in another repository of the app was never linked there: not readable there.
    expect((await fetch(`http://${reg.host}/v2/${slug}/other-disk/blobs/${digest}`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}/blobs/${digest}`, { method: "DELETE", headers: auth })).status).toBe(202);
    const gone = await fetch(`${base}/blobs/${digest}`, { headers: auth });
    expect(gone.status).toBe(404);
    expect((await gone.json()).errors[0].code).toBe("BLOB_UNKNOWN");
  });
});

describe("containerd", () => {
  it("pulls with a license and pushes with an admin token (ctr, Bearer flow through /v2/token)", async () => {
    const image = await buildImage({ files: { "ctr.txt": "containerd and Gantry's registry\n" } });
    const src = `${reg.host}/${slug}/ctr:1.0`;
    await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", `${adminToken}:${adminToken}`, `oci:${image.layoutDir}:${image.tag}`, `docker://${src}`]);

    const pulled = await cd.pull(src, { user: `LICENSE_ID:${licenseId}`, plainHttp: true });
    expect(pulled.code).toBe(0);
    const dest = `${reg.host}/${slug}/ctr-copy:1.0`;
    expect((await cd.ctr(["images", "tag", src, dest])).code).toBe(0);
    const pushed = await cd.ctr(["images", "push", "--plain-http", "--user", `${adminToken}:${adminToken}`, dest]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const a = await fetch(`http://${reg.host}/v2/${slug}/ctr/manifests/1.0`, { method: "HEAD", headers: { authorization: basic("x", licenseId), accept: "application/vnd.oci.image.manifest.v1+json" } });
    const b = await fetch(`http://${reg.host}/v2/${slug}/ctr-copy/manifests/1.0`, { method: "HEAD", headers: { authorization: basic("x", licenseId), accept: "application/vnd.oci.image.manifest.v1+json" } });
    expect(b.status).toBe(200);
    expect(b.headers.get("docker-content-digest")).toBe(a.headers.get("docker-content-digest"));

    // A license cannot push.
    const refused = await cd.ctr(["images", "push", "--plain-http", "--user", `x:${licenseId}`, `${reg.host}/${slug}/ctr-license:1.0`]);
    expect(refused.code).not.toBe(0);
  }, 120_000);
});

describe("garbage collection", () => {
  it("refuses writes while read-only, and removes the layers of a deleted manifest", async () => {
    const auth = { authorization: basic(adminToken, adminToken) };
    const image = await buildImage({ files: { "gc.txt": `collect me ${stamp}\n` } });
    await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", `${adminToken}:${adminToken}`, `oci:${image.layoutDir}:${image.tag}`, `docker://${reg.host}/${slug}/gc:1`]);
    const head = await fetch(`http://${reg.host}/v2/${slug}/gc/manifests/1`, { headers: { ...auth, accept: "application/vnd.oci.image.manifest.v1+json" } });
    const manifest = (await head.json()) as { layers: { digest: string }[] };
    const digest = head.headers.get("docker-content-digest")!;
    const layer = manifest.layers[0]!.digest;
    const blobFile = path.join(reg.dir, "storage", "docker", "registry", "v2", "blobs", "sha256", layer.slice(7, 9), layer.slice(7), "data");
    expect(fs.existsSync(blobFile)).toBe(true);

    await setReadOnly(new Date(Date.now() + 60_000), "garbage collection");
    await new Promise((r) => setTimeout(r, 1100)); // the switch is read at most every 500 ms
    const refused = await fetch(`http://${reg.host}/v2/${slug}/gc/blobs/uploads/`, { method: "POST", headers: auth });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("60");
    expect((await refused.json()).errors[0].code).toBe("UNAVAILABLE");
    const pull = await fetch(`http://${reg.host}/v2/${slug}/gc/manifests/1`, { headers: { authorization: basic("x", licenseId) } });
    expect(pull.status).toBe(200);
    await clearReadOnly();
    await new Promise((r) => setTimeout(r, 1100));

    expect((await fetch(`http://${reg.host}/v2/${slug}/gc/manifests/${digest}`, { method: "DELETE", headers: auth })).status).toBe(202);
    const report = await collectGarbage({ configFile: reg.registry.distributionConfigFile!, settleMs: 0 });
    expect(report.blobsEligible).toBeGreaterThan(0);
    expect(fs.existsSync(blobFile)).toBe(false);
    expect((await fetch(`http://${reg.host}/v2/${slug}/gc/blobs/${layer}`, { method: "HEAD", headers: auth })).status).toBe(404);
  }, 120_000);
});
