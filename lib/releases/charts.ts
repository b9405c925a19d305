import "server-only";
import { db, type Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { env } from "@/lib/env";
import { teamVerifiedHosts, type AppDomains } from "@/lib/domains/app-domains";
import { parseReference, ReferenceError } from "@/lib/registry-client/reference";
import { pathNameFor } from "@/lib/registries/endpoint";

/**
 * The Helm charts a release names: "<registry host>/<app slug>/<chart>:<version>",
 * charts the vendor pushed to Gantry's registry under this app. Each is
 * checked when the release is created (the tag exists and is a chart) and
 * recorded with the digest it had then, so release scope and pins cover a
 * chart exactly as they cover an image (scope.ts reads ReleaseChart too).
 */
export interface ResolvedChart {
  reference: string;
  repository: string;
  tag: string;
  digest: string;
  upstreamRepository: string;
  name: string;
  appVersion: string | null;
  description: string | null;
}

export const MAX_RELEASE_CHARTS = 50;

// Inline to keep lib/releases below lib/charts in the import graph (lib/charts reads releases).
const HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json";

const invalid = (index: number, message: string) => new AppError("VALIDATION", `Chart ${index + 1}: ${message}`, { fields: { charts: [`Chart ${index + 1}: ${message}`] } });

export async function resolveReleaseCharts(teamId: string, app: { id: string; slug: string }, refs: string[], domains: AppDomains): Promise<ResolvedChart[]> {
  if (refs.length === 0) return [];
  const registryDomain = env().registryDomain;
  if (!registryDomain) throw new AppError("VALIDATION", "Gantry's registry is off on this server, so a release cannot name charts.", { fields: { charts: ["Gantry's registry is off."] } });
  const hosts = new Set([registryDomain, ...(domains.registry ? [domains.registry.host] : []), ...(await teamVerifiedHosts(teamId)).registry].map((h) => h.toLowerCase()));
  const out: ResolvedChart[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of refs.entries()) {
    const reference = raw.trim();
    let ref;
    try {
      ref = parseReference(reference);
    } catch (e) {
      if (e instanceof ReferenceError) throw invalid(i, `"${reference.slice(0, 200)}" is not a chart reference: it ${e.message}.`);
      throw e;
    }
    if (!hosts.has(ref.domain.toLowerCase())) throw invalid(i, `${ref.domain} is not Gantry's registry: push the chart with helm push oci://${domains.registry?.host ?? registryDomain}/${app.slug} and name it there.`);
    const [slug, ...rest] = ref.path.split("/");
    if (slug !== app.slug || rest.length === 0) throw invalid(i, `charts of this app live under ${ref.domain}/${app.slug}/<chart>.`);
    if (!ref.tag || ref.digest) throw invalid(i, "name the chart's version as its tag, e.g. …/mychart:1.2.0.");
    const repository = rest.join("/");
    const tag = await db.registryTag.findUnique({ where: { appId_repository_tag: { appId: app.id, repository, tag: ref.tag } }, select: { digest: true } });
    if (!tag) throw invalid(i, `no version ${ref.tag} of ${repository} on Gantry's registry: push it first (helm push).`);
    const manifest = await db.registryManifest.findUnique({ where: { appId_repository_digest: { appId: app.id, repository, digest: tag.digest } }, select: { artifactType: true, chart: true } });
    if (manifest?.artifactType !== HELM_CONFIG) throw invalid(i, `${repository}:${ref.tag} is an image, not a Helm chart: list it under images.`);
    const key = `${repository}:${ref.tag}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let fields: { name?: string; appVersion?: string | null; description?: string | null } = {};
    try {
      fields = JSON.parse(manifest.chart ?? "{}") as typeof fields;
    } catch {
      // recorded fields that do not parse: the repository names the chart
    }
    out.push({
      reference,
      repository,
      tag: ref.tag,
      digest: tag.digest,
      upstreamRepository: `${pathNameFor(registryDomain)}/${app.slug}/${repository}`,
      name: typeof fields.name === "string" ? fields.name : repository,
      appVersion: typeof fields.appVersion === "string" ? fields.appVersion : null,
      description: typeof fields.description === "string" ? fields.description : null,
    });
  }
  return out;
}

/** Stores a new release's charts (inside its creating transaction). */
export async function storeReleaseCharts(tx: Tx, releaseId: string, appId: string, charts: ResolvedChart[]): Promise<void> {
  for (const c of charts) await tx.releaseChart.create({ data: { releaseId, appId, ...c } });
}
