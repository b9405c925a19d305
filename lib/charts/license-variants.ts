import "server-only";
import crypto from "node:crypto";
import { LRUCache } from "lru-cache";
import { parseNamespaces } from "@/lib/apps/apps";
import { db } from "@/lib/db";
import { appDomains } from "@/lib/domains/app-domains";
import { revealLicenseId } from "@/lib/licenses/customers";
import { processWide } from "@/lib/process-wide";
import { isUniqueViolation } from "@/lib/transactions";
import { releaseImageMap } from "@/lib/releases/installer";
import { releaseForInstaller } from "@/lib/releases/releases";
import { releaseWithinPin, type LicensePin } from "@/lib/releases/scope";
import { newestFirst } from "@/lib/releases/version";
import { dockerConfigJson, secretName } from "@/lib/rewrite/generate";
import { buildLicenseVariant, type GantryValues } from "./variant";
import { chartLayerOf, variantManifest } from "./variant-manifest";

/**
 * Each license's variant of a chart on Gantry's registry: the vendor's chart
 * with the license's `global.gantry` values (variant.ts), as a new archive
 * layer and a new manifest. Built on the fly and deterministic, so:
 *  - a variant is cached per (license, chart digest, inputs) in memory, bounded
 *    by bytes; the inputs (license fields, pull secret hosts, the release's
 *    image map, the app's settings) are part of the key, so a change to any of
 *    them gives a new variant at the next pull by tag;
 *  - ChartVariant records which chart a variant's digests came from, so any
 *    replica (or this one after a restart) rebuilds it when a client asks for
 *    the variant's manifest or layer by digest, and serves it only if the
 *    rebuild still has that digest (else the client resolves the tag again).
 * The provenance layer is dropped: it signs the vendor's archive, which the
 * variant is not.
 */

export interface ChartManifestInput {
  /** The vendor's chart manifest, as stored. */
  manifest: Buffer;
  digest: string;
  repository: string;
  /** The tag the client asked for (null: by digest). */
  tag: string | null;
}

export interface LicenseVariant {
  manifest: Buffer;
  manifestDigest: string;
  mediaType: string;
  layer: Buffer;
  layerDigest: string;
}

export interface LicenseRef {
  licenseRowId: string;
  teamId: string;
  appId: string;
  pin: LicensePin;
}

export class ChartVariantError extends Error {}

const sha256 = (b: Buffer | string) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;

/** At most this many bytes of variants kept in memory per process (each is a few KB to a few MB). */
const CACHE_BYTES = 64 * 1024 * 1024;
/** Builds run at most this many at a time per process: a burst of pulls of a large chart cannot take every core. */
const MAX_BUILDS = 2;

type State = { variants: LRUCache<string, LicenseVariant>; byDigest: LRUCache<string, string>; inflight: Map<string, Promise<LicenseVariant>>; running: number; queue: (() => void)[] };
const state = processWide<State>("chart-variants", () => ({
  variants: new LRUCache<string, LicenseVariant>({ maxSize: CACHE_BYTES, sizeCalculation: (v) => v.manifest.length + v.layer.length + 256 }),
  byDigest: new LRUCache<string, string>({ max: 50_000 }),
  inflight: new Map(),
  running: 0,
  queue: [],
}));

async function withBuildSlot<T>(work: () => Promise<T>): Promise<T> {
  // A finished build hands its slot straight to the next waiter, so a newcomer cannot slip in between.
  if (state.running >= MAX_BUILDS) await new Promise<void>((resolve) => state.queue.push(resolve));
  else state.running++;
  try {
    return await work();
  } finally {
    const next = state.queue.shift();
    if (next) next();
    else state.running--;
  }
}

/** The release whose values a chart pull carries: the newest within the pin naming this chart version, else naming the chart at all. */
async function releaseFor(license: LicenseRef, repository: string, tag: string | null) {
  const named = (where: { tag?: string }) =>
    db.releaseChart.findMany({
      where: { appId: license.appId, repository, ...where, release: { archivedAt: null } },
      select: { release: { select: { version: true, createdAt: true } } },
      orderBy: { release: { createdAt: "desc" } },
      take: 1000,
    });
  const newest = (rows: Awaited<ReturnType<typeof named>>) => rows.map((r) => r.release).filter((r) => releaseWithinPin(r, license.pin)).map((r) => r.version).sort(newestFirst)[0] ?? null;
  // The releases naming this version first; only when none does, those naming the chart at all.
  return (tag !== null ? newest(await named({ tag })) : null) ?? newest(await named({}));
}

/** What goes into a license's `global.gantry` block now, and whether the app adds the pull-secret template. */
export async function licenseChartValues(license: LicenseRef, repository: string, tag: string | null): Promise<{ values: GantryValues; pullSecretTemplate: boolean }> {
  const [row, app] = await Promise.all([
    db.license.findFirst({ where: { id: license.licenseRowId, teamId: license.teamId }, select: { fingerprint: true, expiresAt: true, customer: { select: { name: true, type: true } } } }),
    db.app.findFirst({ where: { id: license.appId, teamId: license.teamId }, select: { slug: true, additionalNamespaces: true, chartPullSecret: true } }),
  ]);
  if (!row || !app) throw new ChartVariantError("The license or its app is gone.");
  const [licenseId, domains, version] = await Promise.all([revealLicenseId(license.teamId, license.licenseRowId), appDomains(license.teamId, license.appId), releaseFor(license, repository, tag)]);
  const hosts = [domains.proxy.host, ...(domains.registry ? [domains.registry.host] : [])];
  const images = version ? releaseImageMap(await releaseForInstaller(license.teamId, license.appId, version), app.slug, domains.proxy.host) : {};
  return {
    values: {
      imagePullSecretName: secretName(app.slug),
      dockerconfigjson: Buffer.from(dockerConfigJson(hosts, licenseId)).toString("base64"),
      license: { fingerprint: row.fingerprint, customerName: row.customer.name, type: row.customer.type, expiresAt: row.expiresAt ? row.expiresAt.toISOString() : null },
      images,
      additionalNamespaces: parseNamespaces(app.additionalNamespaces),
    },
    pullSecretTemplate: app.chartPullSecret,
  };
}

/**
 * The license's variant of a chart manifest. `readChart` reads the vendor's
 * archive (only on a cache miss). Records the variant's digests for the
 * by-digest requests that follow, on any replica.
 */
export async function licenseVariant(license: LicenseRef, chart: ChartManifestInput, readChart: (digest: string) => Promise<Buffer | null>): Promise<LicenseVariant> {
  const layerRef = chartLayerOf(chart.manifest);
  if (!layerRef) throw new ChartVariantError("The chart's manifest does not have exactly one chart archive layer.");
  const inputs = await licenseChartValues(license, chart.repository, chart.tag);
  const key = `${license.licenseRowId}\u0000${chart.digest}\u0000${sha256(JSON.stringify(inputs))}`;
  const cached = state.variants.get(key);
  if (cached) return cached;
  let pending = state.inflight.get(key);
  if (!pending) {
    pending = withBuildSlot(async () => {
      const tgz = await readChart(layerRef.digest);
      if (!tgz) throw new ChartVariantError("The chart's archive is missing from the registry's storage.");
      const layer = await buildLicenseVariant(tgz, inputs.values, { pullSecretTemplate: inputs.pullSecretTemplate });
      const layerDigest = sha256(layer);
      const { bytes, mediaType } = variantManifest(chart.manifest, { digest: layerDigest, size: layer.length });
      const variant: LicenseVariant = { manifest: bytes, manifestDigest: sha256(bytes), mediaType, layer, layerDigest };
      await db.chartVariant
        .upsert({
          where: { licenseId_manifestDigest: { licenseId: license.licenseRowId, manifestDigest: variant.manifestDigest } },
          create: { licenseId: license.licenseRowId, appId: license.appId, repository: chart.repository, chartDigest: chart.digest, tag: chart.tag, manifestDigest: variant.manifestDigest, layerDigest },
          update: {},
        })
        // Another replica recorded the same variant first: the row is what this one would have written.
        .catch((e: unknown) => {
          if (!isUniqueViolation(e)) throw e;
        });
      state.variants.set(key, variant);
      const where = `${license.licenseRowId}\u0000${license.appId}\u0000${chart.repository}`;
      state.byDigest.set(`${where}\u0000${variant.manifestDigest}`, key);
      state.byDigest.set(`${where}\u0000${layerDigest}`, key);
      return variant;
    }).finally(() => state.inflight.delete(key));
    state.inflight.set(key, pending);
  }
  return pending;
}

/** A variant this process built for this license in this repository, by its manifest or layer digest. */
export function cachedVariant(licenseRowId: string, appId: string, repository: string, digest: string): LicenseVariant | null {
  const key = state.byDigest.get(`${licenseRowId}\u0000${appId}\u0000${repository}\u0000${digest}`);
  return (key && state.variants.get(key)) || null;
}

/** Which chart (repository, digest) a license's variant digest (manifest or layer) was built from, as recorded. */
export async function variantSource(licenseRowId: string, appId: string, repository: string, digest: string): Promise<{ chartDigest: string; tag: string | null } | null> {
  return db.chartVariant.findFirst({
    where: { licenseId: licenseRowId, appId, repository, OR: [{ manifestDigest: digest }, { layerDigest: digest }] },
    select: { chartDigest: true, tag: true },
    orderBy: { createdAt: "desc" },
  });
}

/** Forgets every variant built in this process (tests). */
export function forgetChartVariantsForTests(): void {
  state.variants.clear();
  state.byDigest.clear();
}
