import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { createApp } from "@/lib/apps/apps";
import { db } from "@/lib/db";
import { signUp } from "@/lib/auth/sign-up";
import { appRegistryUrl, setAppDomains } from "@/lib/domains/app-domains";
import { addDomain, verifyDomain } from "@/lib/domains/domains";
import { resetEnvForTests } from "@/lib/env";
import { createCustomer, licenseFile } from "@/lib/licenses/customers";
import { createRegistry } from "@/lib/registries/registries";
import { installerForLicense } from "@/lib/releases/installer";
import { createRelease, getRelease, reprobeRelease } from "@/lib/releases/releases";
import { runPreview } from "@/lib/rewrite/preview";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startTestDnsServer, type TestDnsServer } from "@/lib/testing/dns-server";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";

/**
 * Everything generated for an app's customers uses the app's domains: the
 * rewrite preview (names, pull secret, Helm values, kustomize overlay), new
 * releases, a customer's installer (files, images.json and its ConfigMap,
 * commands), the license file and the Registry tab's address. A release keeps
 * the domain it was made with in its stored files; the installer built for a
 * customer uses the current one and says so.
 */
let dns: TestDnsServer;
let upstream: RunningRegistry;
let ctx: TeamContext;
let licenseRow = "";
let licenseId = "";
const stamp = Date.now().toString(36);
const slug = `art-${stamp}`;
const pullHost = `images-${stamp}.acme.test`;
const pushHost = `registry-${stamp}.acme.test`;
let privateImage = "";
let up = "";
const decodeSecret = (yaml: string) => {
  const first = YAML.parseAllDocuments(yaml)[0]?.toJSON() as { data: Record<string, string> };
  return JSON.parse(Buffer.from(first.data[".dockerconfigjson"] ?? "", "base64").toString()) as { auths: Record<string, { password: string }> };
};

beforeAll(async () => {
  dns = await startTestDnsServer();
  process.env.GANTRY_DNS_SERVERS = dns.address;
  resetEnvForTests();
  upstream = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
  await pushImage(await buildImage({ files: { "a.txt": "artifacts\n" } }), { registry: upstream, repo: "acme/api", tag: "1", creds: "alice:alice-pw" });
  up = `127.0.0.1_${upstream.port}`;
  privateImage = `127.0.0.1:${upstream.port}/acme/api:1`;
  const { user, team } = await signUp({ email: `art-${stamp}@example.com`, password: "correct horse battery", teamName: "Artifacts" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Artifacts", slug });
  await createRegistry(ctx, { name: "Up", endpoint: upstream.url, username: "alice", password: "alice-pw" });
  const c = await createCustomer(ctx, slug, { name: "Initech" });
  licenseRow = c.license.id;
  licenseId = c.license.licenseId;
  for (const [name, service] of [[pullHost, "proxy"], [pushHost, "registry"]] as const) {
    const d = await addDomain(ctx, { name, service });
    dns.set(`_gantry-challenge.${name}`, "TXT", [d.verification.value]);
    await verifyDomain(ctx, d.id);
  }
});
afterAll(async () => {
  await stopAll();
  cleanupImages();
  await dns.close();
  delete process.env.GANTRY_DNS_SERVERS;
  resetEnvForTests();
});

const manifests = () => `apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  template:
    spec:
      containers:
        - { name: api, image: "${privateImage}" }
        - { name: own, image: "registry.vendor.test/${slug}/tool:2" }
        - { name: custom, image: "${pushHost}/${slug}/tool:2" }
`;

describe("artifacts follow the app's domains", () => {
  it("a release made before the app picked a domain keeps Gantry's own in its stored files", async () => {
    const release = await createRelease(ctx, slug, { version: "1.0.0", manifests: manifests() });
    expect(release.proxyHost).toBe("gantry.test:8443");
    expect(release.images.find((i) => i.image === privateImage)?.rewritten).toBe(`gantry.test:8443/proxy/${slug}/${up}/acme/api:1`);
  });

  it("the preview rewrites to the app's proxy domain, and the pull secret and Helm values name its domains", async () => {
    await setAppDomains(ctx, slug, { proxyDomain: pullHost, registryDomain: pushHost });
    const preview = await runPreview(ctx, slug, { manifests: manifests(), licenseId });
    expect(preview.domains).toEqual({ proxy: pullHost, registry: pushHost });
    const byImage = Object.fromEntries(preview.images.map((i) => [i.image, i]));
    expect(byImage[privateImage]).toMatchObject({ status: "private", rewritten: `${pullHost}/proxy/${slug}/${up}/acme/api:1` });
    // Images on any of Gantry's registry names are the vendor's own, kept as written.
    expect(byImage[`registry.vendor.test/${slug}/tool:2`]?.status).toBe("vendor_registry");
    expect(byImage[`${pushHost}/${slug}/tool:2`]?.status).toBe("vendor_registry");
    const secret = decodeSecret(preview.files["secret.yaml"]);
    expect(Object.keys(secret.auths).sort()).toEqual([pullHost, pushHost].sort());
    expect(secret.auths[pullHost]?.password).toBe(licenseId);
    expect(preview.files["kustomization.yaml"]).toContain(`newName: ${pullHost}/proxy/${slug}/${up}/acme/api`);
    expect(preview.files["helm-values.yaml"]).toContain(`registry: ${pullHost}`);
    expect(preview.summary).toContain(`docker login ${pullHost}`);
    expect(JSON.stringify(preview.files)).not.toContain("gantry.test:8443");
  });

  it("a new release stores the app's domains; the first keeps its own; re-probing says which domains it used", async () => {
    const release = await createRelease(ctx, slug, { version: "2.0.0", manifests: manifests() });
    expect(release).toMatchObject({ proxyHost: pullHost, registryHost: pushHost });
    expect(release.files.find((f) => f.path.endsWith("secret.yaml"))?.content).toContain(pullHost);
    expect((await getRelease(ctx.team.id, slug, "1.0.0")).files.map((f) => f.content).join("\n")).toContain("gantry.test:8443");
    const { probedWith, release: after } = await reprobeRelease(ctx, slug, "1.0.0");
    expect(probedWith).toEqual({ proxy: pullHost, registry: pushHost });
    expect(after.images.find((i) => i.image === privateImage)?.rewritten).toBe(`gantry.test:8443/proxy/${slug}/${up}/acme/api:1`);
    // The vendor image written on the custom registry name is scoped like one on Gantry's own.
    const rows = await getRelease(ctx.team.id, slug, "2.0.0");
    expect(rows.images.find((i) => i.image === `${pushHost}/${slug}/tool:2`)?.upstreamRepository).toBe(`registry.vendor.test/${slug}/tool`);
  });

  it("a customer's installer for the old release uses the current domains everywhere, and says they changed", async () => {
    const installer = await installerForLicense(ctx, slug, "1.0.0", licenseRow);
    expect(installer.domains).toEqual({ proxy: pullHost, registry: pushHost, releaseProxy: "gantry.test:8443", releaseRegistry: "registry.vendor.test", changed: true });
    const files = Object.fromEntries(installer.files.map((f) => [f.path, f.content]));
    const imagesJson = JSON.parse(files["images.json"] ?? "{}") as Record<string, string>;
    expect(imagesJson[privateImage]).toBe(`${pullHost}/proxy/${slug}/${up}/acme/api:1`);
    expect(files["images-configmap.yaml"]).toContain(`${pullHost}/proxy/${slug}/${up}/acme/api:1`);
    expect(Object.keys(decodeSecret(files["overlays/midstream/secret.yaml"] ?? "").auths).sort()).toEqual([pullHost, pushHost].sort());
    expect(installer.commands.dockerLogin).toBe(`docker login ${pullHost} -u LICENSE_ID -p ${licenseId}`);
    expect(files["README.md"]).toContain(`pulled through ${pullHost} (https://${pullHost})`);
    expect(installer.files.map((f) => f.content).join("\n")).not.toContain("gantry.test:8443");
    expect((await installerForLicense(ctx, slug, "2.0.0", licenseRow)).domains.changed).toBe(false);
  });

  it("the license file and the Registry tab use the app's domains", async () => {
    const file = await licenseFile(ctx.team.id, licenseRow);
    expect(file.yaml).toContain(`proxyDomain: ${pullHost}`);
    expect(file.yaml).toContain(`registryDomain: ${pushHost}`);
    expect(file.yaml).toContain(`docker login ${pullHost}`);
    const app = await createApp(ctx, { name: "Plain", slug: `plain-${stamp}` });
    expect(await appRegistryUrl(ctx.team.id, app.id)).toEqual({ host: "registry.vendor.test", url: "https://registry.vendor.test" });
    const picked = (await db.app.findUniqueOrThrow({ where: { slug } })).id;
    expect(await appRegistryUrl(ctx.team.id, picked)).toEqual({ host: pushHost, url: `https://${pushHost}` });
  });
});
