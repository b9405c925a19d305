import "server-only";
import { strToU8, zipSync } from "fflate";
import YAML from "yaml";
import { db } from "@/lib/db";
import { AppError, notFound } from "@/lib/errors";
import { plainHttpSteps } from "@/lib/http/public-urls";
import { getApp } from "@/lib/apps/apps";
import { appDomains } from "@/lib/domains/app-domains";
import { parseReference } from "@/lib/registry-client/reference";
import { proxiedReference } from "@/lib/rewrite/rewrite";
import { findLicense } from "@/lib/licenses/api";
import { revealLicenseId } from "@/lib/licenses/customers";
import { secretName } from "@/lib/rewrite/generate";
import { extractAll, installerFiles } from "@/lib/rewrite/preview";
import type { ProbeResult } from "@/lib/rewrite/probe";
import type { TeamContext } from "@/lib/teams/access";
import { can } from "@/lib/teams/roles";
import { FILE_PATHS, filesWithPaths, releaseForInstaller, type ReleaseDetail } from "./releases";

export interface InstallerFile {
  path: string;
  content: string;
}

export interface Installer {
  files: InstallerFile[];
  commands: { dockerLogin: string; kubectlApply: string; helm: string };
  /**
   * The hosts these files use (the app's domains now) and those the release
   * was created with: they differ after the app changed domains, and the
   * portal says so.
   */
  domains: { proxy: string; registry: string | null; releaseProxy: string; releaseRegistry: string | null; changed: boolean };
}

/**
 * The probe results a release stored, in the shape generateFiles takes, with
 * each rewritten name moved to `proxyHost` (the app's proxy domain now; the
 * stored name keeps the one of the day the release was made).
 */
function storedResults(release: ReleaseDetail, appSlug: string, proxyHost: string): ProbeResult[] {
  return release.images.map((i) => {
    // upstreamRepository is "<path name>/<repository>"; the repository is the image's path.
    const pathName = i.upstreamRepository && i.rewritten ? i.upstreamRepository.slice(0, i.upstreamRepository.indexOf("/")) : undefined;
    const rewritten = i.rewritten && pathName ? proxiedReference(parseReference(i.image), { proxyDomain: proxyHost, appSlug, pathName }) : i.rewritten;
    return {
      image: i.image,
      normalized: i.normalized,
      status: i.status,
      reason: i.reason,
      ...(i.warning ? { warning: i.warning } : {}),
      rewritten,
      registry: pathName ? { id: "", name: pathName, pathName } : null,
      requests: 0,
    };
  });
}

const imageMapOf = (results: ProbeResult[]) => Object.fromEntries(results.map((r) => [r.image, r.rewritten ?? r.image]));

/** images.json of a release: every image as written → the name a customer pulls, on the app's proxy domain now. */
export const releaseImageMap = (release: ReleaseDetail, appSlug: string, proxyHost: string): Record<string, string> => imageMapOf(storedResults(release, appSlug, proxyHost));

/** A file name safe inside the bundle's base/ folder (no folders, no dot-files), unique among `taken`. */
function baseFileName(name: string, taken: Set<string>): string {
  const clean = name.split(/[\\/]/).at(-1)?.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "") || "manifest.yaml";
  let candidate = clean === "kustomization.yaml" ? "manifest-kustomization.yaml" : clean;
  for (let n = 2; taken.has(candidate); n++) candidate = `${n}-${clean}`;
  taken.add(candidate);
  return candidate;
}

/**
 * The installer of one release for one customer: the kustomize overlay and
 * Helm values with the customer's pull secret, the manifests as the overlay's
 * base, images.json (every image as written → the name the customer pulls) and
 * the same as a ConfigMap for operators that create pods at run time, and a
 * README with the exact commands. The license ID is revealed into the pull
 * secret and the commands: owners and admins only. `licenseRef` is the
 * license's row id or fingerprint (lib/licenses/address.ts), never its ID.
 */
export async function installerForLicense(ctx: TeamContext, appSlug: string, version: string, licenseRef: string): Promise<Installer> {
  if (!can(ctx.role, "license:view-secret")) throw new AppError("FORBIDDEN", "Only owners and admins can build a customer's installer: it holds their license ID.");
  const found = await findLicense(ctx.team.id, licenseRef);
  return installerForLicenseRow(ctx.team.id, appSlug, version, found.id);
}

/**
 * The same for a license row the caller has already authorized (the
 * customer's own install page): the license must belong to the app, in the team.
 */
export async function installerForLicenseRow(teamId: string, appSlug: string, version: string, licenseRowId: string): Promise<Installer> {
  const app = await getApp(teamId, appSlug);
  const release = await releaseForInstaller(teamId, app.id, version);
  const license = await db.license.findFirst({ where: { id: licenseRowId, teamId, appId: app.id }, select: { id: true, customer: { select: { name: true } } } });
  if (!license) throw notFound("License");
  const licenseId = await revealLicenseId(teamId, license.id);

  // The stored manifests parsed again give the same occurrences and workloads as at creation.
  const { occurrences, workloads } = await extractAll(release.manifests, release.imageList);
  const domains = await appDomains(teamId, app.id);
  const results = storedResults(release, app.slug, domains.proxy.host);
  const generated = installerFiles(app, domains, { licenseId, occurrences, workloads, results });

  const taken = new Set<string>();
  const base = release.manifests.map((m) => ({ path: `base/${baseFileName(m.name, taken)}`, content: m.content }));
  const baseKustomization = `# The release's manifests as uploaded (${app.slug} ${release.version}).\n${YAML.stringify({
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: base.map((b) => b.path.slice("base/".length)),
  })}`;

  const imagesJson = `${JSON.stringify(imageMapOf(results), null, 2)}\n`;
  const configMap = `# The image names ${app.slug} ${release.version} pulls, for operators that create pods at run time.\n${YAML.stringify({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `${app.slug}-images` },
    data: { "images.json": imagesJson },
  })}`;

  const proxy = domains.proxy;
  const commands = {
    dockerLogin: `docker login ${proxy.host} -u LICENSE_ID -p ${licenseId}`,
    kubectlApply: `kubectl apply -k ${FILE_PATHS["kustomization.yaml"].replace(/\/kustomization\.yaml$/, "")}`,
    helm: `helm upgrade --install ${app.slug} <chart> -f ${FILE_PATHS["helm-values.yaml"]}`,
  };
  const readme = `# ${app.name} ${release.version} — installer for ${license.customer.name}

Images marked private are pulled through ${proxy.host} (${proxy.origin}) with your license ID.
Keep these files private: secret.yaml and this README hold your license ID.
${plainHttpSection(proxy.host, plainHttpSteps(proxy))}
## Log in to the registry (Docker, or to check access)

    ${commands.dockerLogin}

## Install with kubectl (kustomize)

The overlay adds the pull secret \`${secretName(app.slug)}\`, points every private image at the proxy,
and adds the secret to each workload's imagePullSecrets. base/ holds the release's manifests.

    ${commands.kubectlApply}

## Install with Helm

helm-values.yaml sets the registry, repository and tag of each image and the pull secret:

    ${commands.helm}

## Image names

images.json maps every image as written to the name you pull; images-configmap.yaml holds the same
as the ConfigMap \`${app.slug}-images\` for operators that create pods at run time.
`;

  const files: InstallerFile[] = [
    { path: "README.md", content: readme },
    ...filesWithPaths(generated),
    { path: "base/kustomization.yaml", content: baseKustomization },
    ...base,
    { path: "images.json", content: imagesJson },
    { path: "images-configmap.yaml", content: configMap },
  ];
  const releaseProxy = release.proxyHost || proxy.host;
  const releaseRegistry = release.proxyHost ? release.registryHost : (domains.registry?.host ?? null);
  const registry = domains.registry?.host ?? null;
  return { files, commands, domains: { proxy: proxy.host, registry, releaseProxy, releaseRegistry, changed: releaseProxy !== proxy.host || releaseRegistry !== registry } };
}

/** The README's "Plain http" section, or nothing for https. */
function plainHttpSection(host: string, steps: string[]): string {
  if (!steps.length) return "";
  return `
## Plain http

${host} is served without TLS. Container clients refuse plain http unless the host is
listed as an insecure registry, on every machine that pulls (each Kubernetes node too):

${steps.map((s) => `- ${s}`).join("\n")}
`;
}

/** A piece of a download's file name: letters, digits, dots, dashes and underscores, at most 60. */
export const safeFileName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60) || "x";

/** All files in one zip, at their paths. */
export function bundleZip(files: InstallerFile[]): Uint8Array {
  return zipSync(Object.fromEntries(files.map((f) => [f.path, strToU8(f.content)])));
}
