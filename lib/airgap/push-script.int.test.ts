import { execFile, execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { helmTools, runTool } from "@/lib/deploy/helm";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, buildMultiArchIndex, cleanupImages, pushImage } from "@/lib/testing/registries/images";
import { bundleReadme, manifestsKustomization, nameBundleImages, pushScript, type BundleImage } from "./push-script";

/**
 * push.sh end to end with the real components a customer has: a bundle's OCI
 * layout built by skopeo from a real registry (one image digest-only, one a
 * multi-arch index, one written two ways in the manifests), pushed by the
 * script into a second, empty distribution behind htpasswd; then the
 * registry's digests, `kubectl kustomize` of the overlay it wrote, and
 * `helm template` of a chart with the values it wrote.
 */

const run = promisify(execFile);
const CREDS = "alice:s3cret";
let src: RunningRegistry;
let dst: RunningRegistry;
let work: string;
let bundle: string;
let images: BundleImage[];
let helm: string;

const sha256 = (b: Buffer) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;

/** The manifest bytes the registry serves for a reference, hashed: what the registry really holds. */
async function registryDigest(reference: string): Promise<string> {
  const { stdout } = await run("skopeo", ["inspect", "--raw", "--tls-verify=false", "--creds", CREDS, `docker://${reference}`], { encoding: "buffer", maxBuffer: 16 * 1024 * 1024 });
  return sha256(stdout);
}

function pushSh(dir: string, args: string[], env: Record<string, string> = {}, cwd = os.tmpdir()) {
  // From another directory, by path: the script finds its bundle by its own location.
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(path.join(dir, "push.sh"), args, { cwd, env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const CHART_TEMPLATE = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  template:
    spec:
      containers:
{{- range $name, $image := .Values.images }}
        - name: {{ $name }}
          image: "{{ $image.registry }}/{{ $image.repository }}{{ if $image.digest }}@{{ $image.digest }}{{ else }}:{{ $image.tag }}{{ end }}"
{{- end }}
`;

beforeAll(async () => {
  [src, dst] = await Promise.all([startRegistry({ auth: "none" }), startRegistry({ auth: "htpasswd", users: { alice: "s3cret" } })]);
  ({ helm } = await helmTools());
  work = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-airgap-push-"));
  bundle = path.join(work, "acme-1.2.0");
  fs.mkdirSync(path.join(bundle, "charts"), { recursive: true });

  const [api, worker, web, multi] = await Promise.all([buildImage({ files: { "api.txt": "api\n" } }), buildImage({ files: { "worker.txt": "worker\n" } }), buildImage({ files: { "web.txt": "web\n" } }), buildMultiArchIndex()]);
  const pushed = await Promise.all([
    pushImage(api, { registry: src, repo: "acme/api", tag: "1.0" }),
    pushImage(worker, { registry: src, repo: "acme/worker", tag: "build-7" }),
    pushImage(web, { registry: src, repo: "acme/web", tag: "1" }),
    pushImage(multi, { registry: src, repo: "acme/multi", tag: "3.0", all: true }),
  ]);
  // What the release's manifests write; the content comes from the source registry either way.
  const sources = [`${src.host}/acme/api:1.0`, `${src.host}/acme/worker@${pushed[1].digest}`, "docker.io/acme/web:1", `${src.host}/acme/multi:3.0`];
  const fetchFrom = [`${src.host}/acme/api:1.0`, `${src.host}/acme/worker@${pushed[1].digest}`, `${src.host}/acme/web:1`, `${src.host}/acme/multi:3.0`];
  const named = nameBundleImages(sources.map((source, i) => ({ source, digest: pushed[i]!.digest })));
  const written = [[`${src.host}/acme/api`], [`${src.host}/acme/worker`], ["acme/web", "docker.io/acme/web"], [`${src.host}/acme/multi`]];
  images = named.map((n, i) => ({ ...n, digest: pushed[i]!.digest, writtenNames: written[i]! }));

  // The layout as the bundle carries it, written by skopeo itself.
  for (const [i, image] of images.entries()) {
    await run("skopeo", ["copy", "--quiet", "--all", "--preserve-digests", "--src-tls-verify=false", `docker://${fetchFrom[i]}`, `oci:${bundle}/images:${image.refName}`]);
  }

  const manifests = path.join(bundle, "manifests");
  fs.mkdirSync(manifests);
  fs.writeFileSync(
    path.join(manifests, "deployment.yaml"),
    `apiVersion: apps/v1
kind: Deployment
metadata:
  name: acme
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: docker.io/acme/web:1
      containers:
        - { name: api, image: "${src.host}/acme/api:1.0" }
        - { name: worker, image: "${src.host}/acme/worker@${pushed[1].digest}" }
        - { name: web, image: "acme/web:1" }
        - { name: multi, image: "${src.host}/acme/multi:3.0" }
`,
  );
  fs.writeFileSync(path.join(manifests, "kustomization.yaml"), manifestsKustomization(["deployment.yaml"]));

  const chartDir = path.join(work, "chart", "acme");
  fs.mkdirSync(path.join(chartDir, "templates"), { recursive: true });
  fs.writeFileSync(path.join(chartDir, "Chart.yaml"), "apiVersion: v2\nname: acme\nversion: 1.2.0\n");
  fs.writeFileSync(path.join(chartDir, "templates", "deployment.yaml"), CHART_TEMPLATE);
  const packaged = await runTool(helm, ["package", chartDir, "--destination", path.join(bundle, "charts")]);
  expect(packaged.code, packaged.stderr).toBe(0);

  const input = { appSlug: "acme", appName: "Acme Platform", version: "1.2.0", images, charts: [{ file: "acme-1.2.0.tgz", name: "acme", version: "1.2.0" }] };
  fs.writeFileSync(path.join(bundle, "push.sh"), pushScript(input), { mode: 0o755 });
  fs.writeFileSync(path.join(bundle, "README.md"), bundleReadme({ ...input, customerName: "Bank" }));
  fs.writeFileSync(path.join(bundle, "images.json"), JSON.stringify(images.map((i) => i.source)));
}, 180_000);

afterAll(async () => {
  await stopAll();
  cleanupImages();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe("push.sh against a real registry", () => {
  it("copies every image with its digest, multi-arch with every platform, and says where each went", async () => {
    const r = await pushSh(bundle, ["--dest-creds", CREDS, "--insecure", `${dst.host}/acme`]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    for (const [i, image] of images.entries()) {
      expect(r.stdout).toContain(`[${i + 1}/4] ${image.source} -> ${dst.host}/acme/${image.target}:${image.tag}`);
      expect(await registryDigest(`${dst.host}/acme/${image.target}:${image.tag}`)).toBe(image.digest);
    }
    const index = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", "--creds", CREDS, `docker://${dst.host}/acme/${images[3]!.target}:3.0`], { encoding: "utf8" })) as { manifests: { digest: string; platform: { architecture: string } }[] };
    expect(index.manifests.map((m) => m.platform.architecture).sort()).toEqual(["amd64", "arm64"]);
    for (const m of index.manifests) expect(await registryDigest(`${dst.host}/acme/${images[3]!.target}@${m.digest}`)).toBe(m.digest);
    expect(r.stdout).toContain("kubectl apply -k overlays/airgap");
    expect(r.stdout).toContain("helm install acme charts/acme-1.2.0.tgz -f helm-values-airgap.yaml");
  });

  it("writes an overlay kustomize renders with every image in the customer's registry", () => {
    const rendered = parseAllDocuments(execFileSync("kubectl", ["kustomize", path.join(bundle, "overlays", "airgap")], { encoding: "utf8" })).map((d) => d.toJS() as { spec: { template: { spec: { containers: { name: string; image: string }[]; initContainers: { image: string }[] } } } });
    const pod = rendered[0]!.spec.template.spec;
    const all = [...pod.initContainers, ...pod.containers].map((c) => c.image);
    for (const image of all) expect(image.startsWith(`${dst.host}/acme/`), image).toBe(true);
    const [api, worker, web, multi] = images;
    expect(all).toEqual([
      `${dst.host}/acme/${web!.target}:1`,
      `${dst.host}/acme/${api!.target}:1.0`,
      `${dst.host}/acme/${worker!.target}@${worker!.digest}`,
      `${dst.host}/acme/${web!.target}:1`,
      `${dst.host}/acme/${multi!.target}:3.0`,
    ]);
  });

  it("writes Helm values a chart renders with every image in the customer's registry", async () => {
    const r = await runTool(helm, ["template", "acme", path.join(bundle, "charts", "acme-1.2.0.tgz"), "-f", path.join(bundle, "helm-values-airgap.yaml")]);
    expect(r.code, r.stderr).toBe(0);
    const deployment = parseAllDocuments(r.stdout).map((d) => d.toJS() as { spec: { template: { spec: { containers: { image: string }[] } } } })[0]!;
    const rendered = deployment.spec.template.spec.containers.map((c) => c.image).sort();
    expect(rendered).toEqual(
      images
        .map((i) => `${dst.host}/acme/${i.target}${i.source.includes("@") ? `@${i.digest}` : `:${i.tag}`}`)
        .sort(),
    );
    for (const image of rendered) expect(await registryDigest(image)).toMatch(/^sha256:/);
  });

  it("runs again safely: nothing new to copy, the same files rewritten (credentials from GANTRY_DEST_CREDS)", async () => {
    const files = ["overlays/airgap/kustomization.yaml", "helm-values-airgap.yaml"].map((f) => fs.readFileSync(path.join(bundle, f), "utf8"));
    fs.writeFileSync(path.join(bundle, "helm-values-airgap.yaml"), "stale: true\n");
    await dst.flushRequests();
    const r = await pushSh(bundle, ["--dest-tls-verify=false", `${dst.host}/acme`], { GANTRY_DEST_CREDS: CREDS });
    expect(r.code, r.stderr).toBe(0);
    expect(["overlays/airgap/kustomization.yaml", "helm-values-airgap.yaml"].map((f) => fs.readFileSync(path.join(bundle, f), "utf8"))).toEqual(files);
    const seen = dst.requests();
    expect(seen.filter((q) => q.method === "HEAD" && q.path.includes("/blobs/")).length).toBeGreaterThan(0);
    expect(seen.filter((q) => q.method === "POST" || q.method === "PATCH")).toEqual([]);
  });

  it("takes the credentials from an auth file named relative to the caller's directory", async () => {
    const home = fs.mkdtempSync(path.join(work, "home-"));
    await run("skopeo", ["login", "--tls-verify=false", "--authfile", path.join(home, "auth.json"), "-u", "alice", "-p", "s3cret", dst.host]);
    const r = await pushSh(bundle, ["--dest-authfile", "auth.json", "--insecure", `${dst.host}/viaauth`], {}, home);
    expect(r.code, r.stderr).toBe(0);
    for (const image of images) expect(await registryDigest(`${dst.host}/viaauth/${image.target}:${image.tag}`)).toBe(image.digest);
    expect(fs.readFileSync(path.join(bundle, "overlays/airgap/kustomization.yaml"), "utf8")).toContain(`newName: "${dst.host}/viaauth/`);
  });

  it("fails loudly when the registry ends up with another digest than the bundle's", async () => {
    // A damaged bundle: the api's ref in index.json points at the worker's manifest.
    const damaged = path.join(work, "damaged");
    fs.cpSync(bundle, damaged, { recursive: true });
    fs.rmSync(path.join(damaged, "overlays"), { recursive: true, force: true });
    fs.rmSync(path.join(damaged, "helm-values-airgap.yaml"));
    const indexFile = path.join(damaged, "images", "index.json");
    const index = JSON.parse(fs.readFileSync(indexFile, "utf8")) as { manifests: { digest: string; size: number; mediaType: string; annotations: Record<string, string> }[] };
    const ref = (i: number) => index.manifests.find((m) => m.annotations["org.opencontainers.image.ref.name"] === images[i]!.refName)!;
    const [api, worker] = [ref(0), ref(1)];
    Object.assign(api, { digest: worker.digest, size: worker.size, mediaType: worker.mediaType });
    fs.writeFileSync(indexFile, JSON.stringify(index));

    const r = await pushSh(damaged, ["--dest-creds", CREDS, "--insecure", `${dst.host}/damaged`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`DIGEST MISMATCH for ${dst.host}/damaged/${images[0]!.target}:1.0: the registry holds ${images[1]!.digest}, the bundle has ${images[0]!.digest}`);
    expect(r.stdout).not.toContain("[2/4]");
    expect(fs.existsSync(path.join(damaged, "overlays"))).toBe(false);
    expect(fs.existsSync(path.join(damaged, "helm-values-airgap.yaml"))).toBe(false);
  });

  it("stops at a registry that refuses the credentials, writing nothing", async () => {
    const damaged = path.join(work, "refused");
    fs.cpSync(bundle, damaged, { recursive: true });
    fs.rmSync(path.join(damaged, "overlays"), { recursive: true, force: true });
    const r = await pushSh(damaged, ["--dest-creds", "alice:wrong", "--insecure", `${dst.host}/acme`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/copying .*acme\/api:1.0 to .* failed/);
    expect(fs.existsSync(path.join(damaged, "overlays"))).toBe(false);
  });
});
