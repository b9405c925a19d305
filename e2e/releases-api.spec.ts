import { expect, test } from "./test";
import { strFromU8, unzipSync } from "fflate";
import YAML from "yaml";
import { startRegistry, stopAll, type RunningRegistry } from "../lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "../lib/testing/registries/images";
import { e2eHost } from "../playwright.config";
import { createToken, gantryCli, seedOwner } from "./fixtures";

let token: RunningRegistry;
let open: RunningRegistry;

test.beforeAll(async () => {
  [token, open] = await Promise.all([startRegistry({ auth: "token", users: { bob: "bob-pw" } }), startRegistry({ auth: "none" })]);
  const img = await buildImage({ files: { "releases-e2e.txt": "release\n" } });
  await pushImage(img, { registry: token, repo: "private/api", tag: "1.0", creds: "bob:bob-pw" });
  await pushImage(img, { registry: open, repo: "acme/web", tag: "1.0" });
});
test.afterAll(async () => {
  await stopAll();
  cleanupImages();
});

test("releases through the API: create, list, get, archive, re-probe, installer and bundle per customer; read-only and foreign tokens refused", async ({ request }) => {
  const owner = seedOwner("releases");
  const auth = { Authorization: `Bearer ${createToken(owner.email, owner.team.slug)}` };
  const readOnly = { Authorization: `Bearer ${gantryCli(["create-token", "--email", owner.email, "--team", owner.team.slug, "--name", "ro", "--role", "member"]).at(-1) ?? ""}` };
  const stranger = seedOwner("releases-other");
  const foreign = { Authorization: `Bearer ${createToken(stranger.email, stranger.team.slug)}` };
  const slug = `rel-${Date.now().toString(36)}`;
  const base = `/api/v1/apps/${slug}/releases`;
  expect((await request.post("/api/v1/registries", { headers: auth, data: { name: "Acme token registry", endpoint: token.url, username: "bob", password: "bob-pw" } })).status()).toBe(201);
  expect((await request.post("/api/v1/apps", { headers: auth, data: { name: "Release App", slug } })).status()).toBe(201);
  const customer = await (await request.post(`/api/v1/apps/${slug}/customers`, { headers: auth, data: { name: "Initech" } })).json();

  const manifests = `apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - { name: api, image: "${token.host}/private/api:1.0" }
        - { name: web, image: "${open.host}/acme/web:1.0" }
`;
  // Create: 201 with the image table.
  const created = await request.post(base, { headers: auth, data: { version: "1.0.0", notes: "First", manifests } });
  expect(created.status()).toBe(201);
  const { release } = await created.json();
  expect(release).toMatchObject({ version: "1.0.0", notes: "First", imageCount: 2, counts: { private: 1, public: 1 } });
  const rows = Object.fromEntries(release.images.map((i: { image: string }) => [i.image, i]));
  expect(rows[`${token.host}/private/api:1.0`]).toMatchObject({ status: "private", rewritten: `${e2eHost}/proxy/${slug}/127.0.0.1_${token.port}/private/api:1.0`, upstreamRepository: `127.0.0.1_${token.port}/private/api` });
  expect(rows[`${open.host}/acme/web:1.0`]).toMatchObject({ status: "public", digest: expect.stringMatching(/^sha256:/), rewritten: null });
  expect((await request.post(base, { headers: auth, data: { version: "1.0.0", images: [`${open.host}/acme/web:1.0`] } })).status()).toBe(409);
  expect((await request.post(base, { headers: auth, data: { version: "1.1.0-rc.1", images: [`${open.host}/acme/web:1.0`] } })).status()).toBe(201);

  // List and get.
  const list = await (await request.get(base, { headers: readOnly })).json();
  expect(list.releases.map((r: { version: string }) => r.version)).toEqual(["1.1.0-rc.1", "1.0.0"]);
  const got = await request.get(`${base}/1.0.0`, { headers: readOnly });
  expect(got.status()).toBe(200);
  expect((await got.json()).release.images).toHaveLength(2);
  expect((await request.get(`${base}/${encodeURIComponent("1.1.0-rc.1")}`, { headers: auth })).status()).toBe(200);
  expect((await request.get(`${base}/9.9.9`, { headers: auth })).status()).toBe(404);
  expect((await request.get(`${base}/${encodeURIComponent("not a version")}`, { headers: auth })).status()).toBe(404);

  // Archive and unarchive, each idempotent.
  for (let i = 0; i < 2; i++) {
    const a = await request.post(`${base}/1.1.0-rc.1/archive`, { headers: auth });
    expect(a.status()).toBe(200);
    expect((await a.json()).release.archivedAt).not.toBeNull();
  }
  expect((await (await request.get(base, { headers: auth })).json()).releases.map((r: { version: string }) => r.version)).toEqual(["1.0.0"]);
  expect((await (await request.get(`${base}?archived=true`, { headers: auth })).json()).releases).toHaveLength(2);
  const u = await request.post(`${base}/1.1.0-rc.1/unarchive`, { headers: auth });
  expect((await u.json()).release.archivedAt).toBeNull();

  // Re-probe: nothing moved.
  const reprobe = await request.post(`${base}/1.0.0/reprobe`, { headers: auth });
  expect(reprobe.status()).toBe(200);
  expect(await reprobe.json()).toMatchObject({ release: { version: "1.0.0" }, changes: [] });

  // The installer for the customer, by row id and by fingerprint.
  const byId = await (await request.get(`${base}/1.0.0/installer?license=${customer.license.id}`, { headers: auth })).json();
  const byFingerprint = await (await request.get(`${base}/1.0.0/installer?license=${customer.license.fingerprint}`, { headers: auth })).json();
  expect(byFingerprint).toEqual(byId);
  expect(byId.commands.dockerLogin).toBe(`docker login ${e2eHost} -u LICENSE_ID -p ${customer.license.licenseId}`);
  const file = (p: string) => byId.files.find((f: { path: string }) => f.path === p)?.content as string;
  expect(JSON.parse(file("images.json"))).toEqual({
    [`${token.host}/private/api:1.0`]: `${e2eHost}/proxy/${slug}/127.0.0.1_${token.port}/private/api:1.0`,
    [`${open.host}/acme/web:1.0`]: `${open.host}/acme/web:1.0`,
  });
  const secret = YAML.parseAllDocuments(file("overlays/midstream/secret.yaml"))[0]?.toJS();
  expect(JSON.parse(Buffer.from(secret.data[".dockerconfigjson"], "base64").toString()).auths[e2eHost].password).toBe(customer.license.licenseId);
  expect((await request.get(`${base}/1.0.0/installer?license=${customer.license.licenseId}`, { headers: auth })).status()).toBe(400);

  // The bundle: a zip of every file.
  const bundle = await request.get(`${base}/1.0.0/bundle?license=${customer.license.id}`, { headers: auth });
  expect(bundle.status()).toBe(200);
  expect(bundle.headers()["content-type"]).toBe("application/zip");
  expect(bundle.headers()["content-disposition"]).toMatch(/^attachment; filename=".+\.zip"$/);
  expect(bundle.headers()["cache-control"]).toBe("no-store");
  const zip = unzipSync(new Uint8Array(await bundle.body()));
  expect(Object.keys(zip).sort()).toEqual(byId.files.map((f: { path: string }) => f.path).sort());
  expect(strFromU8(zip["images.json"]!)).toBe(file("images.json"));

  // A read-only token reads but changes nothing and sees no license; another team gets 404.
  expect((await request.post(base, { headers: readOnly, data: { version: "2.0.0", images: [`${open.host}/acme/web:1.0`] } })).status()).toBe(403);
  expect((await request.post(`${base}/1.0.0/archive`, { headers: readOnly })).status()).toBe(403);
  expect((await request.post(`${base}/1.0.0/reprobe`, { headers: readOnly })).status()).toBe(403);
  expect((await request.get(`${base}/1.0.0/installer?license=${customer.license.id}`, { headers: readOnly })).status()).toBe(403);
  expect((await request.get(base, { headers: foreign })).status()).toBe(404);
  expect((await request.get(`${base}/1.0.0`, { headers: foreign })).status()).toBe(404);
  expect((await request.post(`${base}/1.0.0/archive`, { headers: foreign })).status()).toBe(404);
  expect((await request.post(base, { headers: foreign, data: { version: "3.0.0", images: ["busybox"] } })).status()).toBe(404);
  expect((await request.get(`${base}/1.0.0/bundle?license=${customer.license.id}`, { headers: foreign })).status()).toBe(404);
});
