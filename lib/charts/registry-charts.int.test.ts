import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createApiToken } from "@/lib/api-tokens/tokens";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { createCustomer, revokeLicense } from "@/lib/licenses/customers";
import { handleRegistryRequest } from "@/lib/proxy/handler";
import { flushPulls } from "@/lib/proxy/pull-log";
import { createRegistry } from "@/lib/registries/registries";
import { forgetPinnedDigestsForTests } from "@/lib/releases/pinned-digests";
import { createRelease, getRelease } from "@/lib/releases/releases";
import { setLicensePin } from "@/lib/releases/scope";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startTestHostedRegistry, type TestHostedRegistry } from "@/lib/testing/hosted-registry";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";
import { skopeoPull } from "@/lib/testing/skopeo";
import { helmTools, runTool, type K8sObject } from "../deploy/helm";
import { readChartArchive } from "./chart-archive";
import { forgetChartVariantsForTests } from "./license-variants";
import { listPushedCharts } from "./pushed-charts";

/**
 * Helm charts through Gantry's registry with the real Helm 4 client: the
 * vendor pushes with `helm push` (an API token, and email + password); a
 * license pulls its own variant (values carrying its pull secret, license
 * fields and the release's image map), which Helm renders; the pull secret in
 * it pulls the release's private image through the real proxy with skopeo.
 * The vendor pulls the chart as pushed. `helm install --dry-run` needs a
 * cluster (it asks the API server even in client mode for capabilities), so
 * `helm template` renders instead.
 */
let reg: TestHostedRegistry;
let upstream: RunningRegistry;
let proxy: http.Server;
let proxyHost = "";
let ctx: TeamContext;
let helm = "";
let dir = "";
let token = "";
const stamp = Date.now().toString(36);
const slug = `charts-${stamp}`;
const email = `charts-${stamp}@example.com`;
const password = "correct horse battery staple";
const licenses = { a: "", aRow: "", b: "", pinned: "", other: "", revoked: "", revokedRow: "" };
const tgz = { v1: "", v2: "" };
let imageRef = "";
let up = "";

async function helmOk(args: string[]): Promise<string> {
  const r = await runTool(helm, args);
  expect(r.code, `helm ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** helm with its own registry login file per principal. */
const as = (who: string) => ["--registry-config", path.join(dir, `${who}.json`)];

async function login(who: string, user: string, pass: string) {
  await helmOk(["registry", "login", reg.host, "-u", user, "-p", pass, "--plain-http", ...as(who)]);
}

async function pullChart(who: string, version: string): Promise<{ code: number; stderr: string; file: string }> {
  const out = fs.mkdtempSync(path.join(dir, `pull-${who}-`));
  const r = await runTool(helm, ["pull", `oci://${reg.host}/${slug}/shop`, "--version", version, "--plain-http", "--destination", out, "--content-cache", path.join(out, ".cache"), ...as(who)]);
  return { code: r.code, stderr: r.stderr, file: path.join(out, `shop-${version}.tgz`) };
}

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
const manifestOf = (reference: string, auth: string, method = "GET") =>
  fetch(`http://${reg.host}/v2/${slug}/shop/manifests/${reference}`, { method, headers: { authorization: auth, accept: "application/vnd.oci.image.manifest.v1+json" } });

interface Gantry {
  imagePullSecretName: string;
  dockerconfigjson: string;
  license: { fingerprint: string; customerName: string; type: string; expiresAt: string | null };
  images: Record<string, string>;
}

async function valuesOf(file: string): Promise<{ gantry: Gantry; files: Map<string, string> }> {
  const chart = await readChartArchive(fs.readFileSync(file));
  const files = new Map(chart.files.map((f) => [f.path, f.data.toString("utf8")]));
  const values = parse(files.get("values.yaml") ?? "") as { global: { gantry: Gantry } };
  return { gantry: values.global.gantry, files };
}

beforeAll(async () => {
  ({ helm } = await helmTools());
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-charts-"));
  upstream = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
  up = `127.0.0.1_${upstream.port}`;
  await pushImage(await buildImage({ files: { "api.txt": "api 1.2\n" } }), { registry: upstream, repo: "acme/api", tag: "1.2", creds: "alice:alice-pw" });
  imageRef = `${upstream.host}/acme/api:1.2`;
  reg = await startTestHostedRegistry({ publicHost: env().registryDomain });
  proxy = http.createServer((req, res) => void handleRegistryRequest(req, res, { clientIp: req.socket.remoteAddress ?? null }));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyHost = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  const { user, team } = await signUp({ email, password, teamName: "Charts" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Shop Suite", slug });
  await db.app.update({ where: { slug }, data: { chartPullSecret: true } });
  await createRegistry(ctx, { name: "Upstream", endpoint: upstream.url, username: "alice", password: "alice-pw" });
  token = (await createApiToken(ctx, { name: "ci", role: "admin" })).token;

  // A chart as `helm create` makes it, whose template reads the image map and the license.
  await helmOk(["create", path.join(dir, "shop")]);
  fs.writeFileSync(
    path.join(dir, "shop", "templates", "gantry-images.yaml"),
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-gantry\ndata:\n  api: {{ index .Values.global.gantry.images ${JSON.stringify(imageRef)} | quote }}\n  customer: {{ .Values.global.gantry.license.customerName | quote }}\n`,
  );
  for (const version of ["0.1.0", "0.2.0"]) {
    const chartYaml = path.join(dir, "shop", "Chart.yaml");
    fs.writeFileSync(chartYaml, fs.readFileSync(chartYaml, "utf8").replace(/^version: .*$/m, `version: ${version}`).replace(/^description: .*$/m, "description: The shop, for Helm."));
    await helmOk(["package", path.join(dir, "shop"), "--destination", dir]);
  }
  tgz.v1 = path.join(dir, "shop-0.1.0.tgz");
  tgz.v2 = path.join(dir, "shop-0.2.0.tgz");

  const domain = env().registryDomain!;
  await login("token", token, token);
  await login("email", email, password);
  await helmOk(["push", tgz.v1, `oci://${reg.host}/${slug}`, "--plain-http", ...as("token")]);
  await helmOk(["push", tgz.v2, `oci://${reg.host}/${slug}`, "--plain-http", ...as("email")]);
  await createRelease(ctx, slug, { version: "1.0.0", images: [imageRef], charts: [`${domain}/${slug}/shop:0.1.0`] });
  await createRelease(ctx, slug, { version: "2.0.0", images: [imageRef], charts: [`${domain}/${slug}/shop:0.2.0`] });

  const a = await createCustomer(ctx, slug, { name: "Acme Corp" });
  licenses.a = a.license.licenseId;
  licenses.aRow = a.license.id;
  licenses.b = (await createCustomer(ctx, slug, { name: "Beta GmbH" })).license.licenseId;
  const p = await createCustomer(ctx, slug, { name: "Trial Co" });
  licenses.pinned = p.license.licenseId;
  await setLicensePin(ctx, p.license.id, { maxVersion: "1.0.0" });
  const r = await createCustomer(ctx, slug, { name: "Leaving Ltd" });
  licenses.revoked = r.license.licenseId;
  licenses.revokedRow = r.license.id;
  const otherSlug = `charts-other-${stamp}`;
  await createApp(ctx, { name: "Other", slug: otherSlug });
  licenses.other = (await createCustomer(ctx, otherSlug, { name: "Elsewhere" })).license.licenseId;
  for (const [who, id] of Object.entries({ a: licenses.a, b: licenses.b, pinned: licenses.pinned, revoked: licenses.revoked, other: licenses.other })) await login(who, "LICENSE_ID", id);
}, 240_000);

afterAll(async () => {
  proxy?.close();
  await reg?.stop();
  await stopAll();
  cleanupImages();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("charts on Gantry's registry", () => {
  it("lists pushed charts apart from images, with Chart.yaml's fields; releases name them", async () => {
    const charts = await listPushedCharts(ctx.team.id, slug);
    expect(charts).toHaveLength(1);
    expect(charts[0]).toMatchObject({ repository: "shop", name: "shop" });
    expect(charts[0]!.versions.map((v) => v.tag).sort()).toEqual(["0.1.0", "0.2.0"]);
    expect(charts[0]!.versions[0]).toMatchObject({ description: "The shop, for Helm.", appVersion: "1.16.0", provenance: false });
    const release = await getRelease(ctx.team.id, slug, "1.0.0");
    expect(release.charts).toEqual([expect.objectContaining({ repository: "shop", tag: "0.1.0", name: "shop" })]);
  });

  it("a release refuses a chart that is not there, an image, and another app's path, naming the field", async () => {
    const domain = env().registryDomain!;
    await expect(createRelease(ctx, slug, { version: "9.0.0", charts: [`${domain}/${slug}/shop:9.9.9`] })).rejects.toMatchObject({ code: "VALIDATION", fields: { charts: [expect.stringContaining("no version 9.9.9 of shop")] } });
    await expect(createRelease(ctx, slug, { version: "9.0.0", charts: [`${domain}/elsewhere/shop:0.1.0`] })).rejects.toMatchObject({ code: "VALIDATION" });
    await expect(createRelease(ctx, slug, { version: "9.0.0", charts: [`quay.io/${slug}/shop:0.1.0`] })).rejects.toMatchObject({ code: "VALIDATION", fields: { charts: [expect.stringContaining("is not Gantry's registry")] } });
  });

  it("the vendor pulls the chart byte for byte, with a token and with email and password", async () => {
    for (const who of ["token", "email"]) {
      const pulled = await pullChart(who, "0.1.0");
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(fs.readFileSync(pulled.file).equals(fs.readFileSync(tgz.v1))).toBe(true);
    }
  });

  it("a license pulls its own variant: values carry its pull secret, license and image map; Helm renders them; the secret pulls through the proxy", async () => {
    const pulled = await pullChart("a", "0.1.0");
    expect(pulled.code, pulled.stderr).toBe(0);
    const { gantry, files } = await valuesOf(pulled.file);
    const row = await db.license.findUniqueOrThrow({ where: { id: licenses.aRow }, select: { fingerprint: true } });
    expect(gantry.license).toEqual({ fingerprint: row.fingerprint, customerName: "Acme Corp", type: "paid", expiresAt: null });
    expect(gantry.imagePullSecretName).toBe(`${slug}-registry`);
    const proxied = `${env().proxyDomain}/proxy/${slug}/${up}/acme/api:1.2`;
    expect(gantry.images).toEqual({ [imageRef]: proxied });
    const config = JSON.parse(Buffer.from(gantry.dockerconfigjson, "base64").toString("utf8")) as { auths: Record<string, { username: string; password: string }> };
    expect(Object.keys(config.auths).sort()).toEqual([env().proxyDomain, env().registryDomain!].sort());
    // The license ID is nowhere in the chart but inside the base64 pull secret.
    for (const [file, text] of files) expect(text.includes(licenses.a), file).toBe(false);
    // The secret the chart carries pulls the release's private image through the proxy (here on loopback).
    const auth = config.auths[env().proxyDomain]!;
    await skopeoPull(`${proxyHost}/${proxied.slice(env().proxyDomain.length + 1)}`, `${auth.username}:${auth.password}`);

    const rendered = await helmOk(["template", "shop", pulled.file, "--namespace", "shop"]);
    const objects = rendered.split(/^---$/m).map((d) => parse(d) as K8sObject | null).filter((o): o is K8sObject => o !== null);
    expect(objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "shop-gantry")?.data).toEqual({ api: proxied, customer: "Acme Corp" });
    const secret = objects.find((o) => o.kind === "Secret" && o.metadata.name === `${slug}-registry`);
    expect(secret).toMatchObject({ type: "kubernetes.io/dockerconfigjson", metadata: { namespace: "shop" }, data: { ".dockerconfigjson": gantry.dockerconfigjson } });
  });

  it("one license gets the same digest every time, two licenses different ones, the vendor the original", async () => {
    const digest = async (auth: string) => (await manifestOf("0.1.0", auth)).headers.get("docker-content-digest");
    const a1 = await digest(basic("LICENSE_ID", licenses.a));
    forgetChartVariantsForTests();
    const a2 = await digest(basic("LICENSE_ID", licenses.a));
    const b = await digest(basic("LICENSE_ID", licenses.b));
    const vendor = await digest(basic(token, token));
    expect(a1).toMatch(/^sha256:/);
    expect(a2).toBe(a1);
    expect(b).not.toBe(a1);
    expect(vendor).not.toBe(a1);
    expect(vendor).toBe((await db.registryTag.findFirstOrThrow({ where: { app: { slug }, repository: "shop", tag: "0.1.0" } })).digest);
    // The vendor's digest asked for by a license: its copy has another digest, so a digest-checking client is told to pull by version.
    const byVendorDigest = await manifestOf(vendor!, basic("LICENSE_ID", licenses.a));
    expect(byVendorDigest.status).toBe(404);
    expect(((await byVendorDigest.json()) as { errors: { code: string; message: string }[] }).errors[0]).toMatchObject({ code: "MANIFEST_UNKNOWN", message: expect.stringContaining("pull") });
  });

  it("another replica (nothing in memory) serves a variant's manifest and archive by digest", async () => {
    const res = await manifestOf("0.1.0", basic("LICENSE_ID", licenses.a));
    const manifest = (await res.json()) as { layers: { mediaType: string; digest: string }[] };
    const variantDigest = res.headers.get("docker-content-digest")!;
    forgetChartVariantsForTests();
    const again = await manifestOf(variantDigest, basic("LICENSE_ID", licenses.a));
    expect(again.status).toBe(200);
    expect(again.headers.get("docker-content-digest")).toBe(variantDigest);
    forgetChartVariantsForTests();
    const layer = manifest.layers.find((l) => l.mediaType === "application/vnd.cncf.helm.chart.content.v1.tar+gzip")!;
    const blob = await fetch(`http://${reg.host}/v2/${slug}/shop/blobs/${layer.digest}`, { headers: { authorization: basic("LICENSE_ID", licenses.a) } });
    expect(blob.status).toBe(200);
    expect(blob.headers.get("docker-content-digest")).toBe(layer.digest);
    // Another license cannot read this license's variant by digest.
    expect((await manifestOf(variantDigest, basic("LICENSE_ID", licenses.b))).status).toBe(404);
  });

  it("another app's license is denied; a pinned license gets 0.1.0 but not 0.2.0", async () => {
    const other = await pullChart("other", "0.1.0");
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain("This license is for another application");
    const ok = await pullChart("pinned", "0.1.0");
    expect(ok.code, ok.stderr).toBe(0);
    expect((await valuesOf(ok.file)).gantry.license.customerName).toBe("Trial Co");
    // Its own variant by digest is within the pin because the chart it was built from is.
    const tagged = await manifestOf("0.1.0", basic("LICENSE_ID", licenses.pinned));
    const variantDigest = tagged.headers.get("docker-content-digest")!;
    forgetChartVariantsForTests();
    forgetPinnedDigestsForTests();
    expect((await manifestOf(variantDigest, basic("LICENSE_ID", licenses.pinned))).status).toBe(200);
    const beyond = await pullChart("pinned", "0.2.0");
    expect(beyond.code).not.toBe(0);
    expect(beyond.stderr).toContain(`${slug}/shop:0.2.0 is not in the releases this license may install (up to 1.0.0); ask your vendor.`);
  });

  it("a revoked license is refused within a second", async () => {
    const auth = basic("LICENSE_ID", licenses.revoked);
    expect((await manifestOf("0.1.0", auth)).status).toBe(200);
    await revokeLicense(ctx, licenses.revokedRow, "left");
    const started = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - started < 3000) {
      status = (await manifestOf("0.1.0", auth)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 25));
    }
    console.log(`[charts] revoked license refused after ${Date.now() - started} ms`);
    expect(status).toBe(401);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("chart pulls count in the pull log like images", async () => {
    await flushPulls();
    const rows = await db.pullEvent.findMany({ where: { licenseId: licenses.aRow, repository: "registry/shop" }, select: { kind: true, status: true, bytesSent: true } });
    expect(rows.some((r) => r.kind === "manifests" && r.status === 200 && r.bytesSent > 0)).toBe(true);
    expect(rows.some((r) => r.kind === "blobs" && r.status === 200 && r.bytesSent > 0)).toBe(true);
  });
});
