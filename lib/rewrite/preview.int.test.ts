import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { signUp } from "@/lib/auth/sign-up";
import { createApp, updateApp } from "@/lib/apps/apps";
import { createCustomer } from "@/lib/licenses/customers";
import { createRegistry } from "@/lib/registries/registries";
import { clearChallengeCache } from "@/lib/registry-client/client";
import { runPreview } from "@/lib/rewrite/preview";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";

let open: RunningRegistry;
let basic: RunningRegistry;
let token: RunningRegistry;
let limiter: http.Server;
let limiterHits = 0;
let limiterHost = "";
let digest = "";
let ctx: TeamContext;
const slug = `preview-${Date.now().toString(36)}`;

beforeAll(async () => {
  [open, basic, token] = await Promise.all([
    startRegistry({ auth: "none" }),
    startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } }),
    startRegistry({ auth: "token", users: { bob: "bob-pw" } }),
  ]);
  const img = await buildImage({ files: { "p.txt": "preview\n" } });
  ({ digest } = await pushImage(img, { registry: open, repo: "acme/open", tag: "1.0" }));
  await pushImage(img, { registry: basic, repo: "acme/basic", tag: "1.0", creds: "alice:alice-pw" });
  await pushImage(img, { registry: token, repo: "private/api", tag: "2.0", creds: "bob:bob-pw" });
  await pushImage(img, { registry: token, repo: "public/tool", tag: "3.0", creds: "bob:bob-pw" });
  limiter = http.createServer((req, res) => {
    limiterHits++;
    res.writeHead(429, { "retry-after": "0", "content-type": "application/json" });
    res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
  });
  await new Promise<void>((r) => limiter.listen(0, "127.0.0.1", r));
  limiterHost = `127.0.0.1:${(limiter.address() as { port: number }).port}`;

  const { user, team } = await signUp({ email: `preview-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Preview" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Preview", slug });
  await createRegistry(ctx, { name: "Token", endpoint: token.url, username: "bob", password: "bob-pw" });
  await createRegistry(ctx, { name: "Dead", endpoint: "http://127.0.0.1:1", username: "u", password: "p" });
  clearChallengeCache();
});
afterAll(async () => {
  await stopAll();
  cleanupImages();
  limiter.close();
});

describe("rewrite preview against real registries", () => {
  it("classifies every status the probe can reach, with reasons, and rewrites private images", async () => {
    const images = [
      `${open.host}/acme/open:1.0`, // public
      `${open.host}/acme/open@${digest}`, // public by digest
      `${token.host}/public/tool:3.0`, // public behind anonymous token
      `${token.host}/private/api:2.0`, // private: insufficient_scope after anonymous token
      `${basic.host}/acme/basic:1.0`, // private (Basic), registry not added
      `${open.host}/acme/typo:1.0`, // not found
      `${limiterHost}/acme/busy:1`, // rate limited
      "127.0.0.1:1/acme/dead:1", // unreachable, a team registry → treated as private
      "127.0.0.1:2/acme/gone:1", // unreachable, unknown host → kept
      "Acme/Upper:1", // invalid
      "registry.vendor.test/acme/own:1", // vendor registry
      "gantry.test:8443/proxy/x/y/z:1", // already proxied
    ];
    const streamed: string[] = [];
    const preview = await runPreview(ctx, slug, { images }, { onImage: (i) => streamed.push(i.image) });
    const by = Object.fromEntries(preview.images.map((i) => [i.image, i]));
    expect(streamed.sort()).toEqual([...images].sort());

    expect(by[`${open.host}/acme/open:1.0`]).toMatchObject({ status: "public", rewritten: null, httpStatus: 200 });
    expect(by[`${open.host}/acme/open@${digest}`]).toMatchObject({ status: "public" });
    expect(by[`${token.host}/public/tool:3.0`]).toMatchObject({ status: "public" });
    expect(by[`${token.host}/private/api:2.0`]).toMatchObject({
      status: "private",
      challengeError: "insufficient_scope",
      reason: expect.stringMatching(/401.*insufficient_scope.*anonymous token/),
      rewritten: `gantry.test:8443/proxy/${slug}/127.0.0.1_${token.port}/private/api:2.0`,
    });
    expect(by[`${token.host}/private/api:2.0`]?.missingRegistry).toBeUndefined();
    expect(by[`${basic.host}/acme/basic:1.0`]).toMatchObject({
      status: "private",
      missingRegistry: true,
      warning: expect.stringMatching(/Add 127\.0\.0\.1:\d+ as a registry/),
      rewritten: `gantry.test:8443/proxy/${slug}/127.0.0.1_${basic.port}/acme/basic:1.0`,
    });
    expect(by[`${open.host}/acme/typo:1.0`]).toMatchObject({ status: "not_found", httpStatus: 404, rewritten: null, warning: expect.stringMatching(/typo/) });
    expect(by[`${limiterHost}/acme/busy:1`]).toMatchObject({ status: "rate_limited", httpStatus: 429, rewritten: null });
    expect(limiterHits).toBeGreaterThanOrEqual(3); // the first try and two retries
    expect(by["127.0.0.1:1/acme/dead:1"]).toMatchObject({ status: "unreachable", reason: expect.stringMatching(/TCP/), warning: expect.stringMatching(/Treated as private/), rewritten: `gantry.test:8443/proxy/${slug}/127.0.0.1_1/acme/dead:1` });
    expect(by["127.0.0.1:2/acme/gone:1"]).toMatchObject({ status: "unreachable", rewritten: null });
    expect(by["Acme/Upper:1"]).toMatchObject({ status: "invalid", reason: expect.stringMatching(/lowercase/) });
    expect(by["registry.vendor.test/acme/own:1"]).toMatchObject({ status: "vendor_registry", rewritten: null });
    expect(by["gantry.test:8443/proxy/x/y/z:1"]).toMatchObject({ status: "already_proxied", rewritten: null });
  });

  it("probes each distinct reference once, with at most 2 upstream requests per image once tokens are warm", async () => {
    clearChallengeCache();
    await token.flushRequests();
    const images = Array.from({ length: 6 }, () => `${token.host}/private/api:2.0`);
    const preview = await runPreview(ctx, slug, { images });
    expect(preview.images).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 200));
    const manifestRequests = token.requests().filter((r) => r.path.includes("/manifests/"));
    expect(manifestRequests.length).toBeLessThanOrEqual(2);
  });

  it("generates a kustomization that real kustomize renders with every image proxied and every workload patched", async () => {
    const c = await createCustomer(ctx, slug, { name: "Kustomer" });
    await updateApp(ctx, slug, { additionalNamespaces: ["monitoring"] });
    const base = `apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      initContainers: [{ name: init, image: "${token.host}/private/api:2.0" }]
      containers:
        - { name: api, image: "${token.host}/private/api@${digest}" }
        - { name: tool, image: "${token.host}/public/tool:3.0" }
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: nightly }
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{ name: job, image: "${basic.host}/acme/basic:1.0" }]
---
apiVersion: v1
kind: Pod
metadata: { name: debug }
spec:
  imagePullSecrets: [{ name: vendor-existing }]
  containers: [{ name: d, image: "${open.host}/acme/open:1.0" }]
`;
    const preview = await runPreview(ctx, slug, { manifests: base, licenseId: c.license.licenseId });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-kustomize-"));
    fs.mkdirSync(path.join(dir, "base"));
    fs.writeFileSync(path.join(dir, "base", "app.yaml"), base);
    fs.writeFileSync(path.join(dir, "base", "kustomization.yaml"), "resources:\n  - app.yaml\n");
    const overlay = path.join(dir, "overlays", "midstream");
    fs.mkdirSync(overlay, { recursive: true });
    for (const f of ["kustomization.yaml", "secret.yaml", "pullsecrets.yaml"] as const) fs.writeFileSync(path.join(overlay, f), preview.files[f]);
    const rendered = execFileSync("kubectl", ["kustomize", overlay], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    const docs = YAML.parseAllDocuments(rendered).map((d) => d.toJS());

    const deploy = docs.find((d) => d.kind === "Deployment");
    const proxy = `gantry.test:8443/proxy/${slug}`;
    expect(deploy.spec.template.spec.initContainers[0].image).toBe(`${proxy}/127.0.0.1_${token.port}/private/api:2.0`);
    expect(deploy.spec.template.spec.containers[0].image).toBe(`${proxy}/127.0.0.1_${token.port}/private/api@${digest}`);
    // A public image of the same registry stays as written.
    expect(deploy.spec.template.spec.containers[1].image).toBe(`${token.host}/public/tool:3.0`);
    const cron = docs.find((d) => d.kind === "CronJob");
    expect(cron.spec.jobTemplate.spec.template.spec.containers[0].image).toBe(`${proxy}/127.0.0.1_${basic.port}/acme/basic:1.0`);
    const pod = docs.find((d) => d.kind === "Pod");
    expect(pod.spec.containers[0].image).toBe(`${open.host}/acme/open:1.0`);

    const pullSecretsOf = (spec: { imagePullSecrets?: { name: string }[] }) => (spec.imagePullSecrets ?? []).map((s) => s.name);
    expect(pullSecretsOf(deploy.spec.template.spec)).toContain(`${slug}-registry`);
    expect(pullSecretsOf(cron.spec.jobTemplate.spec.template.spec)).toContain(`${slug}-registry`);
    expect(pullSecretsOf(pod.spec)).toEqual(expect.arrayContaining(["vendor-existing", `${slug}-registry`]));

    const secrets = docs.filter((d) => d.kind === "Secret");
    expect(secrets.map((s) => s.metadata.namespace ?? "")).toEqual(expect.arrayContaining(["", "monitoring"]));
    const config = JSON.parse(Buffer.from(secrets[0].data[".dockerconfigjson"], "base64").toString());
    expect(config.auths["gantry.test:8443"].password).toBe(c.license.licenseId);
    expect(Object.keys(config.auths)).toEqual(["gantry.test:8443", "registry.vendor.test"]);
  });

  it("refuses bad input clearly: malformed YAML names file, document and line; a foreign license is a field error", async () => {
    await expect(runPreview(ctx, slug, { manifests: ["kind: Pod\n", "a: [1\n"] })).rejects.toMatchObject({ code: "VALIDATION", message: expect.stringMatching(/^manifest-2\.yaml, document 1, line \d+/) });
    await expect(runPreview(ctx, slug, { images: ["x"], licenseId: "A".repeat(32) })).rejects.toMatchObject({ code: "VALIDATION", fields: { licenseId: expect.any(Array) } });
    await expect(runPreview(ctx, slug, { manifests: "a: b\n".repeat(600_000) })).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    await expect(runPreview(ctx, "no-such-app", { images: ["x"] })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
