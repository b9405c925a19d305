import "server-only";
import { z } from "zod";
import { db } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { HELM_CONFIG_MEDIA_TYPE, HELM_PROVENANCE_MEDIA_TYPE } from "./media-types";

/**
 * Helm charts pushed to Gantry's registry. A manifest is a chart when its
 * config is Helm's (HELM_CONFIG_MEDIA_TYPE); at push, the registry reads that
 * config (Chart.yaml as JSON) and records the fields people look for in
 * RegistryManifest.chart, so listing charts never reads storage.
 */

/** What Gantry keeps of a chart's Chart.yaml, and whether it was pushed with a provenance file. */
export interface ChartFields {
  name: string;
  version: string;
  appVersion: string | null;
  description: string | null;
  provenance: boolean;
}

/** Most bytes of a chart's config Gantry reads: Chart.yaml as JSON is a few hundred bytes; dependencies and maintainers can add some. */
export const CHART_CONFIG_MAX_BYTES = 256 * 1024;

const configSchema = z.object({
  name: z.string().min(1).max(250),
  version: z.string().min(1).max(250),
  appVersion: z.union([z.string(), z.number()]).optional().nullable(),
  description: z.string().optional().nullable(),
});

/** The fields of a chart's config blob; null when it is not Helm's config (then the manifest is listed as an image). */
export function chartFieldsOf(config: Buffer, layerTypes: (string | null)[]): ChartFields | null {
  let json: unknown;
  try {
    json = JSON.parse(config.toString("utf8"));
  } catch {
    return null;
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) return null;
  const c = parsed.data;
  return {
    name: c.name,
    version: c.version,
    appVersion: c.appVersion === undefined || c.appVersion === null ? null : String(c.appVersion).slice(0, 250),
    description: c.description ? c.description.slice(0, 1000) : null,
    provenance: layerTypes.includes(HELM_PROVENANCE_MEDIA_TYPE),
  };
}

export function parseStoredChart(json: string | null): ChartFields | null {
  if (!json) return null;
  try {
    const v = JSON.parse(json) as ChartFields;
    return typeof v?.name === "string" && typeof v.version === "string" ? v : null;
  } catch {
    return null;
  }
}

export const isChartType = (artifactType: string | null) => artifactType === HELM_CONFIG_MEDIA_TYPE;

export interface ChartVersion {
  tag: string;
  digest: string;
  version: string;
  appVersion: string | null;
  description: string | null;
  provenance: boolean;
  pushedAt: Date;
}

export interface PushedChart {
  /** The chart's repository under the app: what follows "<registry>/<app slug>/". */
  repository: string;
  name: string;
  /** Newest push first. */
  versions: ChartVersion[];
}

const MAX_CHART_TAGS = 5_000;

/** An app's charts on Gantry's registry, by repository, each with its tagged versions. Another team's app is NOT_FOUND. */
export async function listPushedCharts(teamId: string, appSlug: string): Promise<PushedChart[]> {
  const app = await db.app.findFirst({ where: { teamId, slug: appSlug }, select: { id: true } });
  if (!app) throw notFound("App");
  return chartsOfApp(app.id);
}

export async function chartsOfApp(appId: string): Promise<PushedChart[]> {
  const manifests = await db.registryManifest.findMany({
    where: { appId, artifactType: HELM_CONFIG_MEDIA_TYPE, chart: { not: null } },
    select: { repository: true, digest: true, chart: true },
    take: MAX_CHART_TAGS,
  });
  if (manifests.length === 0) return [];
  const fields = new Map(manifests.map((m) => [`${m.repository}\u0000${m.digest}`, parseStoredChart(m.chart)]));
  const tags = await db.registryTag.findMany({
    where: { appId, repository: { in: [...new Set(manifests.map((m) => m.repository))] } },
    select: { repository: true, tag: true, digest: true, pushedAt: true },
    orderBy: [{ pushedAt: "desc" }, { tag: "asc" }],
    take: MAX_CHART_TAGS,
  });
  const byRepository = new Map<string, PushedChart>();
  for (const t of tags) {
    const f = fields.get(`${t.repository}\u0000${t.digest}`);
    if (!f) continue;
    let chart = byRepository.get(t.repository);
    if (!chart) byRepository.set(t.repository, (chart = { repository: t.repository, name: f.name, versions: [] }));
    chart.versions.push({ tag: t.tag, digest: t.digest, version: f.version, appVersion: f.appVersion, description: f.description, provenance: f.provenance, pushedAt: t.pushedAt });
  }
  return [...byRepository.values()].sort((a, b) => (a.repository < b.repository ? -1 : 1));
}
