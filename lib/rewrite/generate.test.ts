import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { parseReference } from "@/lib/registry-client/reference";
import { extractImages } from "@/lib/rewrite/extract";
import { generateFiles, PLACEHOLDER_LICENSE, summary } from "@/lib/rewrite/generate";
import type { ProbeResult } from "@/lib/rewrite/probe";
import { proxiedReference } from "@/lib/rewrite/rewrite";

const D = `sha256:${"b".repeat(64)}`;
const target = { proxyDomain: "pull.example.com", appSlug: "acme", pathName: "quay.io" };

describe("proxiedReference", () => {
  it.each([
    ["quay.io/acme/api:1.0", "pull.example.com/proxy/acme/quay.io/acme/api:1.0"],
    ["quay.io/acme/api", "pull.example.com/proxy/acme/quay.io/acme/api"],
    [`quay.io/acme/api@${D}`, `pull.example.com/proxy/acme/quay.io/acme/api@${D}`],
    [`quay.io/acme/api:1.0@${D}`, `pull.example.com/proxy/acme/quay.io/acme/api:1.0@${D}`],
  ])("%s → %s (tag and digest as written)", (image, expected) => {
    expect(proxiedReference(parseReference(image), target)).toBe(expected);
  });

  it("normalizes Docker Hub to docker.io/<namespace>/<name> with library/", () => {
    expect(proxiedReference(parseReference("nginx:1"), { ...target, pathName: "docker.io" })).toBe("pull.example.com/proxy/acme/docker.io/library/nginx:1");
    expect(proxiedReference(parseReference("index.docker.io/acme/x"), { ...target, pathName: "docker.io" })).toBe("pull.example.com/proxy/acme/docker.io/acme/x");
  });

  it("produces references real clients accept (no colon in the path for host:port upstreams)", () => {
    const r = proxiedReference(parseReference("registry.example.com:5000/acme/job:v2"), { ...target, pathName: "registry.example.com_5000" });
    expect(r).toBe("pull.example.com/proxy/acme/registry.example.com_5000/acme/job:v2");
    expect(parseReference(r).path).toBe("proxy/acme/registry.example.com_5000/acme/job");
  });
});

function result(image: string, status: ProbeResult["status"], rewritten: string | null, pathName = "docker.io"): ProbeResult {
  return { image, normalized: parseReference(image).normalized, status, reason: "", rewritten, registry: { id: "r", name: "r", pathName }, requests: 0 };
}

describe("generateFiles", () => {
  const manifests = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  template:
    spec:
      containers:
        - { name: a, image: "acme/private:1" }
        - { name: b, image: "docker.io/acme/private:2" }
        - { name: c, image: "postgres:16" }
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: job }
spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: j, image: "docker.io/acme/private@${D}" }] } } } } }
`;
  const { occurrences, workloads } = extractImages([{ name: "m.yaml", content: manifests }]);
  const results = [
    result("acme/private:1", "private", "pull.example.com/proxy/acme/docker.io/acme/private:1"),
    result("docker.io/acme/private:2", "private", "pull.example.com/proxy/acme/docker.io/acme/private:2"),
    result(`docker.io/acme/private@${D}`, "private", `pull.example.com/proxy/acme/docker.io/acme/private@${D}`),
    result("postgres:16", "public", null),
  ];

  it("writes an images: entry for every spelling of each rewritten repository, and none for public ones", () => {
    const files = generateFiles({ appSlug: "acme", proxyDomain: "pull.example.com", proxyScheme: "https", registryDomain: undefined, additionalNamespaces: [], licenseId: "L".repeat(32), occurrences, workloads, results });
    const k = YAML.parse(files["kustomization.yaml"]);
    expect(k.resources).toEqual(["../../base", "secret.yaml"]);
    expect(k.images).toEqual([
      { name: "acme/private", newName: "pull.example.com/proxy/acme/docker.io/acme/private" },
      { name: "docker.io/acme/private", newName: "pull.example.com/proxy/acme/docker.io/acme/private" },
    ]);
    expect(k.patchesStrategicMerge).toEqual(["pullsecrets.yaml"]);
  });

  it("builds a dockerconfigjson secret from the license, for the proxy and registry domains, per namespace", () => {
    const licenseId = "abcdefghijklmnopqrstuvwxyzABCDEF";
    const files = generateFiles({ appSlug: "acme", proxyDomain: "pull.example.com", proxyScheme: "https", registryDomain: "registry.example.com", additionalNamespaces: ["monitoring", "*"], licenseId, occurrences, workloads, results });
    const docs = YAML.parseAllDocuments(files["secret.yaml"]).map((d) => d.toJS());
    expect(docs.map((d) => d.metadata)).toEqual([{ name: "acme-registry" }, { name: "acme-registry", namespace: "monitoring" }]);
    for (const d of docs) {
      expect(d.type).toBe("kubernetes.io/dockerconfigjson");
      const config = JSON.parse(Buffer.from(d.data[".dockerconfigjson"], "base64").toString());
      expect(Object.keys(config.auths)).toEqual(["pull.example.com", "registry.example.com"]);
      expect(config.auths["pull.example.com"]).toEqual({ username: licenseId, password: licenseId, auth: Buffer.from(`${licenseId}:${licenseId}`).toString("base64") });
    }
    expect(files["secret.yaml"]).toMatch(/every namespace/);
  });

  it("marks the secret as a placeholder without a license", () => {
    const files = generateFiles({ appSlug: "acme", proxyDomain: "p.example.com", proxyScheme: "https", registryDomain: undefined, additionalNamespaces: [], licenseId: undefined, occurrences, workloads, results });
    expect(files["secret.yaml"]).toContain(`${PLACEHOLDER_LICENSE} is a placeholder`);
    const d = YAML.parseAllDocuments(files["secret.yaml"])[0]?.toJS();
    expect(Buffer.from(d.data[".dockerconfigjson"], "base64").toString()).toContain(PLACEHOLDER_LICENSE);
  });

  it("patches imagePullSecrets at each kind's pod spec path, keeping existing secrets", () => {
    const files = generateFiles({ appSlug: "acme", proxyDomain: "p.example.com", proxyScheme: "https", registryDomain: undefined, additionalNamespaces: [], licenseId: undefined, occurrences, workloads, results });
    const patches = YAML.parseAllDocuments(files["pullsecrets.yaml"]).map((d) => d.toJS());
    expect(patches[0]).toEqual({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { template: { spec: { imagePullSecrets: [{ name: "acme-registry" }] } } } });
    expect(patches[1].spec.jobTemplate.spec.template.spec.imagePullSecrets).toEqual([{ name: "acme-registry" }]);
  });

  it("gives Helm values per image pointing at the proxy, and says what a customer needs", () => {
    const files = generateFiles({ appSlug: "acme", proxyDomain: "p.example.com", proxyScheme: "https", registryDomain: undefined, additionalNamespaces: [], licenseId: undefined, occurrences, workloads, results });
    const v = YAML.parse(files["helm-values.yaml"]);
    expect(v.imagePullSecrets).toEqual([{ name: "acme-registry" }]);
    expect(v.images.private).toEqual({ registry: "pull.example.com", repository: "proxy/acme/docker.io/acme/private", tag: "1" });
    expect(v.images.postgres).toEqual({ registry: "docker.io", repository: "library/postgres", tag: "16" });
    const proxy = { scheme: "https", host: "p.example.com", origin: "https://p.example.com" } as const;
    expect(summary(results, proxy)).toMatch(/3 private images.*docker login p\.example\.com/);
    expect(summary(results, proxy)).not.toMatch(/insecure/);
    expect(summary([results[3] as ProbeResult], proxy)).toMatch(/no credentials/);
  });

  it("tells customers and nodes to treat a plain-http proxy as an insecure registry", () => {
    const files = generateFiles({ appSlug: "acme", proxyDomain: "gantry.lab:3000", proxyScheme: "http", registryDomain: undefined, additionalNamespaces: [], licenseId: undefined, occurrences, workloads, results });
    expect(files["secret.yaml"]).toContain('# gantry.lab:3000 is plain http: every node\'s container runtime must list it as an insecure registry (containerd: /etc/containerd/certs.d/gantry.lab:3000/hosts.toml with server = "http://gantry.lab:3000").');
    expect(YAML.parseAllDocuments(files["secret.yaml"])).toHaveLength(1);
    const proxy = { scheme: "http", host: "gantry.lab:3000", origin: "http://gantry.lab:3000" } as const;
    expect(summary(results, proxy)).toMatch(/docker login gantry\.lab:3000".*gantry\.lab:3000 is served over plain http.*"insecure-registries": \["gantry\.lab:3000"\]/);
  });
});
