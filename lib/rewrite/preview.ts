import "server-only";
import { z } from "zod";
import { env } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { getApp } from "@/lib/apps/apps";
import { appDomains, teamVerifiedHosts, type AppDomains } from "@/lib/domains/app-domains";
import { pathNameFor } from "@/lib/registries/endpoint";
import { findLicenseByKey, revealLicenseId } from "@/lib/licenses/customers";
import { parseAllowlist, schemeForHost } from "@/lib/net/ssrf";
import { enforceLimit, ipKey } from "@/lib/rate-limit/limits";
import { listRegistries } from "@/lib/registries/registries";
import { sharedTokenCache } from "@/lib/registry-client/token-cache";
import type { TeamContext } from "@/lib/teams/access";
import { can } from "@/lib/teams/roles";
import { ManifestError, MAX_IMAGES, type ImageOccurrence, type ManifestFile, type WorkloadRef } from "./extract";
import { extractImagesOffThread } from "./extract-off-thread";
import { generateFiles, summary } from "./generate";
import { probeImages, type ProbeResult } from "./probe";

export const previewSchema = z
  .object({
    manifests: z.union([z.string(), z.array(z.string())]).optional(),
    files: z.array(z.object({ name: z.string().max(200), content: z.string() })).max(50).optional(),
    images: z.array(z.string().max(1024)).max(MAX_IMAGES, `At most ${MAX_IMAGES} images.`).optional(),
    licenseId: z.string().max(200).optional(),
  })
  .refine((v) => v.manifests !== undefined || v.files !== undefined || v.images !== undefined, { message: "Send manifests, files or images.", path: ["manifests"] });

export type PreviewInput = z.input<typeof previewSchema>;

export interface PreviewImage extends ProbeResult {
  /** Where the image occurs: file, document, object. */
  occurrences: { file: string; document: number; kind: string; name: string; container: string; line: number | undefined }[];
}

/**
 * Runs a rewrite preview for an app: extract images, probe each distinct one
 * anonymously, rewrite private ones to the proxy and generate the installer's
 * files. `onImage` is called as each probe finishes (the UI streams rows).
 */
export async function runPreview(
  ctx: TeamContext,
  appSlug: string,
  input: PreviewInput,
  options: { onImage?: (image: PreviewImage) => void; signal?: AbortSignal } = {},
) {
  const { onImage, signal } = options;
  const data = previewSchema.parse(input);
  // A preview probes up to 500 images on hosts the caller chose: limit how often.
  const limits = env().rateLimits;
  await enforceLimit(`preview:caller:${ctx.actor.type}:${ctx.actor.id}`, limits.previewPerCaller, 60, "previews");
  if (ctx.ip) await enforceLimit(`preview:ip:${ipKey(ctx.ip)}`, limits.previewPerIp, 60, "previews from your address");
  const app = await getApp(ctx.team.id, appSlug);
  const { occurrences, workloads } = await extractAll(manifestFiles(data), data.images ?? [], signal);
  let licenseId: string | undefined;
  if (data.licenseId) {
    if (!can(ctx.role, "license:view-secret")) throw new AppError("FORBIDDEN", "Only owners and admins can build a pull secret from a license.");
    const l = await findLicenseByKey(ctx.team.id, data.licenseId).catch(() => {
      throw new AppError("VALIDATION", "No license of this team has that ID.", { fields: { licenseId: ["No license of this team has that ID."] } });
    });
    licenseId = await revealLicenseId(ctx.team.id, l.id);
  }

  const domains = await appDomains(ctx.team.id, app.id);
  const results = await probeAll(ctx.team.id, app.slug, occurrences, { domains, signal, onResult: (r) => onImage?.({ ...r, occurrences: occurrencesOf(occurrences, r.image) }) });
  const where = (image: string) => occurrencesOf(occurrences, image);
  const images: PreviewImage[] = results.map((r) => ({ ...r, occurrences: where(r.image) }));
  const files_ = installerFiles(app, domains, { licenseId, occurrences, workloads, results });
  return {
    app: { slug: app.slug, name: app.name },
    domains: { proxy: domains.proxy.host, registry: domains.registry?.host ?? null },
    images,
    files: files_,
    summary: summary(results, domains.proxy),
    licensePicked: Boolean(licenseId),
  };
}

/** The installer's files for an app with its proxy and registry domains (lib/domains/app-domains.ts). */
export function installerFiles(
  app: { slug: string; additionalNamespaces: string[] },
  domains: AppDomains,
  input: { licenseId: string | undefined; occurrences: ImageOccurrence[]; workloads: WorkloadRef[]; results: ProbeResult[] },
) {
  return generateFiles({
    appSlug: app.slug,
    proxyDomain: domains.proxy.host,
    proxyScheme: domains.proxy.scheme,
    registryDomain: domains.registry?.host,
    additionalNamespaces: app.additionalNamespaces,
    ...input,
  });
}

/** The uploaded manifests as files: `files` as given, then pasted `manifests` as manifest[-n].yaml. */
export function manifestFiles(data: { manifests?: string | string[] | undefined; files?: ManifestFile[] | undefined }): ManifestFile[] {
  return [
    ...(data.files ?? []),
    ...(data.manifests === undefined ? [] : (Array.isArray(data.manifests) ? data.manifests : [data.manifests]).map((content, i, all) => ({ name: all.length > 1 ? `manifest-${i + 1}.yaml` : "manifest.yaml", content }))),
  ];
}

/** Where an image occurs, as the preview and releases show it. */
export function occurrencesOf(occurrences: ImageOccurrence[], image: string): PreviewImage["occurrences"] {
  return occurrences
    .filter((o) => o.image === image)
    .map((o) => ({ file: o.file, document: o.document, kind: o.kind, name: o.name, container: o.container, line: o.line }));
}

/**
 * Extracts every image of the manifests (off-thread) plus the listed images
 * ("image list" occurrences). Manifest errors become VALIDATION (or
 * PAYLOAD_TOO_LARGE) naming file, document and line.
 */
export async function extractAll(files: ManifestFile[], listedImages: string[], signal?: AbortSignal): Promise<{ occurrences: ImageOccurrence[]; workloads: WorkloadRef[] }> {
  let extracted;
  try {
    extracted = await extractImagesOffThread(files, { signal });
  } catch (e) {
    if (e instanceof ManifestError) {
      const code = e.code === "TOO_LARGE" ? "PAYLOAD_TOO_LARGE" : "VALIDATION";
      throw new AppError(code, e.message, { fields: { manifests: [e.message] } });
    }
    throw e;
  }
  const listed = listedImages.map((image, i) => ({
    image,
    file: "image list",
    document: i + 1,
    kind: "",
    name: "",
    namespace: undefined,
    apiVersion: "",
    podSpecPath: [],
    container: "",
    line: undefined,
  }));
  const occurrences = [...extracted.occurrences, ...listed];
  if (new Set(occurrences.map((o) => o.image)).size > MAX_IMAGES) throw new AppError("VALIDATION", `At most ${MAX_IMAGES} distinct images.`);
  return { occurrences, workloads: extracted.workloads };
}

/**
 * Probes each distinct image of `occurrences` for a team's app, with the team's
 * registries and the app's domains: private images are rewritten to its proxy
 * domain; images already on any of Gantry's names for this team (its own hosts,
 * the team's verified domains) are not probed upstream.
 */
export async function probeAll(
  teamId: string,
  appSlug: string,
  occurrences: { image: string }[],
  options: { domains: AppDomains; signal?: AbortSignal; onResult?: (r: ProbeResult) => void },
): Promise<ProbeResult[]> {
  const config = env();
  const allow = parseAllowlist(config.allowedPrivateHosts);
  const [registries, teamHosts] = await Promise.all([listRegistries(teamId), teamVerifiedHosts(teamId)]);
  const { domains } = options;
  return probeImages(
    occurrences.map((o) => o.image),
    {
      appSlug,
      proxyDomain: domains.proxy.host,
      registryDomain: domains.registry?.host,
      otherProxyHosts: [config.proxyDomain, ...teamHosts.proxy],
      otherRegistryHosts: config.registryDomain ? [config.registryDomain, ...teamHosts.registry] : [],
      ...(config.registryDomain ? { vendorRegistryPathName: pathNameFor(config.registryDomain) } : {}),
      registries,
      allowedPrivateHosts: config.allowedPrivateHosts,
      tokenCache: sharedTokenCache,
      // Plain http only reaches hosts the operator allowed as private; everything else is https.
      schemeFor: (host) => schemeForHost(host, allow),
      onResult: options.onResult,
      signal: options.signal,
    },
  );
}
