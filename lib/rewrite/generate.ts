import YAML from "yaml";
import type { PublicUrl } from "@/lib/env";
import { plainHttpNote } from "@/lib/http/public-urls";
import { parseReference } from "@/lib/registry-client/reference";
import type { ImageOccurrence, WorkloadRef } from "./extract";
import type { ProbeResult } from "./probe";
import { pathNameFor } from "@/lib/registries/endpoint";
import { proxiedName } from "./rewrite";

/**
 * The files an installer applies for a preview:
 * - kustomization.yaml: overlays/midstream/kustomization.yaml (base + secret,
 *   an images: entry for every spelling of each rewritten image, and the
 *   imagePullSecrets patches);
 * - secret.yaml: a kubernetes.io/dockerconfigjson Secret per namespace;
 * - pullsecrets.yaml: strategic-merge patches adding the secret to every
 *   object with images, at the pod spec's path for its kind;
 * - helm-values.yaml: registry/repository/tag per image, and imagePullSecrets.
 */
export const PLACEHOLDER_LICENSE = "REPLACE_WITH_LICENSE_ID";

export interface GenerateInput {
  appSlug: string;
  /** host[:port] of the proxy (image names, pull-secret keys). */
  proxyDomain: string;
  /** The proxy URL's scheme: plain http needs every node's runtime told it is insecure. */
  proxyScheme: PublicUrl["scheme"];
  registryDomain: string | undefined;
  additionalNamespaces: string[];
  /** The license whose ID becomes the pull credential; a placeholder when none is picked. */
  licenseId: string | undefined;
  occurrences: ImageOccurrence[];
  workloads: WorkloadRef[];
  results: ProbeResult[];
}

export interface GeneratedFiles {
  "kustomization.yaml": string;
  "secret.yaml": string;
  "pullsecrets.yaml": string;
  "helm-values.yaml": string;
}

export const secretName = (appSlug: string) => `${appSlug}-registry`;

export function dockerConfigJson(hosts: string[], licenseId: string): string {
  const auth = Buffer.from(`${licenseId}:${licenseId}`).toString("base64");
  const auths: Record<string, { username: string; password: string; auth: string }> = {};
  for (const h of hosts) auths[h] = { username: licenseId, password: licenseId, auth };
  return JSON.stringify({ auths });
}

function secretDoc(name: string, namespace: string | undefined, configJson: string) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, ...(namespace ? { namespace } : {}) },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": Buffer.from(configJson).toString("base64") },
  };
}

function nestedPatch(path: string[], leaf: Record<string, unknown>): Record<string, unknown> {
  return path.reduceRight<Record<string, unknown>>((acc, key) => ({ [key]: acc }), leaf);
}

export function generateFiles(input: GenerateInput): GeneratedFiles {
  const name = secretName(input.appSlug);
  const license = input.licenseId ?? PLACEHOLDER_LICENSE;
  const hosts = [input.proxyDomain, ...(input.registryDomain && input.registryDomain !== input.proxyDomain ? [input.registryDomain] : [])];
  const configJson = dockerConfigJson(hosts, license);
  const byImage = new Map(input.results.map((r) => [r.image, r]));

  // images: one entry per distinct spelling (kustomize matches the written name exactly).
  const imageEntries = new Map<string, { name: string; newName: string }>();
  for (const occ of input.occurrences) {
    const r = byImage.get(occ.image);
    if (!r?.rewritten) continue;
    const ref = parseReference(occ.image);
    const newName = proxiedName(ref, { proxyDomain: input.proxyDomain, appSlug: input.appSlug, pathName: r.registry?.pathName ?? pathNameFor(ref.domain) });
    imageEntries.set(ref.writtenName, { name: ref.writtenName, newName });
  }

  // Secrets: the app's namespace (the kustomization's), plus each additional one.
  const namespaces = input.additionalNamespaces.filter((n) => n !== "*");
  const secretHeader = [
    `# Pull secret for ${input.appSlug}: docker config for ${hosts.join(" and ")}.`,
    input.licenseId ? "# Built from the selected customer's license. Keep it private." : `# ${PLACEHOLDER_LICENSE} is a placeholder: pick a license to fill it in.`,
    ...(input.proxyScheme === "http"
      ? [`# ${input.proxyDomain} is plain http: every node's container runtime must list it as an insecure registry (containerd: /etc/containerd/certs.d/${input.proxyDomain}/hosts.toml with server = "http://${input.proxyDomain}").`]
      : []),
    ...(input.additionalNamespaces.includes("*")
      ? ["# Additional namespaces include \"*\": the installer copies this secret into every namespace the app uses."]
      : []),
  ].join("\n");
  const secrets = [secretDoc(name, undefined, configJson), ...namespaces.map((ns) => secretDoc(name, ns, configJson))];
  const secretYaml = `${secretHeader}\n${secrets.map((s) => YAML.stringify(s)).join("---\n")}`;

  // imagePullSecrets patches, one per object with images.
  const patches = input.workloads.map((w) => {
    const pullSecrets = [...new Set([...w.existingPullSecrets, name])].map((n) => ({ name: n }));
    return {
      apiVersion: w.apiVersion,
      kind: w.kind,
      metadata: { name: w.name, ...(w.namespace ? { namespace: w.namespace } : {}) },
      ...nestedPatch(w.podSpecPath, { imagePullSecrets: pullSecrets }),
    };
  });
  const pullSecretsYaml = patches.length
    ? `# Adds ${name} to imagePullSecrets of every object with images.\n${patches.map((p) => YAML.stringify(p)).join("---\n")}`
    : "# No objects with images.\n";

  const kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: ["../../base", "secret.yaml"],
    ...(imageEntries.size ? { images: [...imageEntries.values()] } : {}),
    ...(patches.length ? { patchesStrategicMerge: ["pullsecrets.yaml"] } : {}),
  };
  const kustomizationYaml = `# overlays/midstream/kustomization.yaml — generated by Gantry for ${input.appSlug}\n${YAML.stringify(kustomization)}`;

  // Helm values: per distinct image, keyed by its repository's last path component.
  const images: Record<string, { registry: string; repository: string; tag?: string; digest?: string }> = {};
  for (const r of input.results) {
    if (!r.normalized) continue;
    const ref = parseReference(r.image);
    const target = r.rewritten ? r.rewritten : r.normalized;
    const t = parseReference(target);
    let key = ref.path.split("/").at(-1) ?? ref.path;
    for (let i = 2; images[key]; i++) key = `${ref.path.split("/").at(-1)}${i}`;
    images[key] = { registry: t.domain, repository: t.path, ...(ref.tag ? { tag: ref.tag } : {}), ...(ref.digest ? { digest: ref.digest } : {}) };
  }
  const helm = { imagePullSecrets: [{ name }], global: { imagePullSecrets: [name] }, images };
  const helmYaml = `# HelmChart values for charts that template their images (registry/repository/tag).\n${YAML.stringify(helm)}`;

  return { "kustomization.yaml": kustomizationYaml, "secret.yaml": secretYaml, "pullsecrets.yaml": pullSecretsYaml, "helm-values.yaml": helmYaml };
}

/** What a customer needs, in plain words. */
export function summary(results: ProbeResult[], proxy: PublicUrl): string {
  const rewritten = results.filter((r) => r.rewritten);
  const publicCount = results.filter((r) => r.status === "public").length;
  if (rewritten.length === 0) {
    return `Every image is public or already reachable (${publicCount} public): customers need no credentials and pull directly.`;
  }
  const plain = plainHttpNote(proxy);
  return `${rewritten.length} private image${rewritten.length === 1 ? "" : "s"} will be pulled through Gantry. Customers run "docker login ${proxy.host}" with their license ID as the password (any username), or apply the generated pull secret.${plain ? ` ${plain}` : ""} ${publicCount} public image${publicCount === 1 ? "" : "s"} stay as written.`;
}
