import { LRUCache } from "lru-cache";
import { ChartArchiveError, CHART_LIMITS } from "@/lib/charts/chart-archive";
import { cachedVariant, ChartVariantError, licenseVariant, variantSource, type LicenseRef, type LicenseVariant } from "@/lib/charts/license-variants";
import { isChartType } from "@/lib/charts/pushed-charts";
import { db } from "@/lib/db";
import { log } from "@/lib/log";
import { processWide } from "@/lib/process-wide";
import { API_VERSION_HEADER, ProxyError } from "@/lib/proxy/errors";
import type { Rights } from "./access";
import { blobAnswer } from "./disk-blobs";
import type { HostedName } from "./paths";
import { logPull, type Ctx } from "./request";
import { readManifestBytes, readStoredBlob } from "./stored-blob";
import { storageName } from "./storage";

/**
 * Helm charts on Gantry's registry, as a license receives them: its own
 * variant (lib/charts/license-variants.ts) in place of the vendor's manifest,
 * and the variant's archive layer by digest. Vendors are never sent here.
 */
type License = Extract<Rights, { kind: "license" }>;

// Whether a manifest is a chart never changes for a digest: remembered per process.
const chartKinds = processWide("hosted-chart-kinds", () => new LRUCache<string, boolean>({ max: 100_000 }));

/** What a stored digest is: a chart, another manifest, or nothing recorded (then it may be a license's variant). */
async function manifestKind(appId: string, repository: string, digest: string): Promise<"chart" | "other" | "unknown"> {
  const key = `${appId}\u0000${repository}\u0000${digest}`;
  const known = chartKinds.get(key);
  if (known !== undefined) return known ? "chart" : "other";
  const row = await db.registryManifest.findUnique({ where: { appId_repository_digest: { appId, repository, digest } }, select: { artifactType: true } });
  if (!row) return "unknown";
  const chart = isChartType(row.artifactType);
  chartKinds.set(key, chart);
  return chart ? "chart" : "other";
}

const licenseRef = (rights: License): LicenseRef => ({ licenseRowId: rights.decision.licenseRowId, teamId: rights.app.teamId, appId: rights.app.id, pin: rights.decision.pin });

function failure(e: unknown): ProxyError {
  if (e instanceof ProxyError) return e;
  if (e instanceof ChartVariantError || e instanceof ChartArchiveError) {
    log.warn("chart variant failed", { error: e.message });
    return new ProxyError(500, "UNAVAILABLE", `This chart could not be prepared for your license: ${e.message} Tell your vendor.`);
  }
  throw e;
}

async function build(ctx: Ctx, rights: License, name: HostedName, chartDigest: string, tag: string | null): Promise<LicenseVariant | null> {
  const store = storageName(rights.app.id, name.repository);
  const manifest = await readManifestBytes(ctx.config, store, chartDigest, ctx.signal);
  // A chart the records know but storage does not answer for: never fall back to the vendor's original.
  if (!manifest) throw new ProxyError(503, "UNAVAILABLE", "The registry's storage did not return this chart. Try again in a few seconds.", { "retry-after": "5" });
  try {
    return await licenseVariant(licenseRef(rights), { manifest, digest: chartDigest, repository: name.repository, tag }, (digest) => readStoredBlob(ctx.config, store, digest, CHART_LIMITS.compressedBytes, ctx.signal));
  } catch (e) {
    throw failure(e);
  }
}

/**
 * GET/HEAD of a manifest by a license: when `digest` (what the tag resolved
 * to, or the digest asked for) is a chart, or the license's variant of one,
 * answers with the license's variant and returns true; false for everything
 * else (the caller serves it from storage).
 */
export async function serveLicenseChart(ctx: Ctx, rights: License, name: HostedName, reference: string, digest: string): Promise<boolean> {
  const byDigest = reference === digest;
  const licenseId = rights.decision.licenseRowId;
  let variant: LicenseVariant | null = null;
  if (byDigest) {
    const known = cachedVariant(licenseId, rights.app.id, name.repository, digest);
    if (known?.manifestDigest === digest) variant = known;
  }
  if (!variant) {
    const kind = await manifestKind(rights.app.id, name.repository, digest);
    // Images (every platform manifest of every pull) cost nothing more than this remembered lookup.
    if (kind === "other") return false;
    if (kind === "chart" && byDigest) {
      // The vendor's own digest: a license's copy has another one, and a client that checks digests would refuse it.
      throw new ProxyError(404, "MANIFEST_UNKNOWN", `Charts are served to each license as its own copy, with its own digest: pull ${name.full} by its version (helm pull oci://…/${name.full} --version <version>).`);
    }
    if (kind === "chart") variant = await build(ctx, rights, name, digest, reference);
    else if (byDigest) {
      // Built by another replica, or before a restart: rebuilt from the chart it was made of, served if it still is that digest.
      const source = await variantSource(licenseId, rights.app.id, name.repository, digest);
      const rebuilt = source ? await build(ctx, rights, name, source.chartDigest, source.tag) : null;
      if (rebuilt?.manifestDigest === digest) variant = rebuilt;
    }
  }
  if (!variant) return false;
  const body = variant.manifest;
  logPull(ctx, rights, name, "manifests", reference, () => (ctx.method === "HEAD" ? 0 : body.length));
  ctx.res.writeHead(200, {
    ...API_VERSION_HEADER,
    "content-type": variant.mediaType,
    "content-length": String(body.length),
    "docker-content-digest": variant.manifestDigest,
    etag: `"${variant.manifestDigest}"`,
  });
  ctx.res.end(ctx.method === "HEAD" ? undefined : body);
  return true;
}

/** GET/HEAD of a blob storage does not have, by a license (the caller logs the pull): the archive layer of its variant of a chart. False when it is not one. */
export async function serveLicenseChartBlob(ctx: Ctx, rights: License, name: HostedName, digest: string, onBytes: (n: number) => void): Promise<boolean> {
  let variant = cachedVariant(rights.decision.licenseRowId, rights.app.id, name.repository, digest);
  if (variant?.layerDigest !== digest) {
    variant = null;
    const source = await variantSource(rights.decision.licenseRowId, rights.app.id, name.repository, digest);
    const rebuilt = source ? await build(ctx, rights, name, source.chartDigest, source.tag) : null;
    if (rebuilt?.layerDigest === digest) variant = rebuilt;
  }
  if (!variant) return false;
  sendRange(ctx, variant.layer, digest, onBytes);
  return true;
}

/** An in-memory blob, with one Range as sendDiskBlob serves it. */
function sendRange(ctx: Ctx, body: Buffer, digest: string, onBytes: (n: number) => void): void {
  const { status, headers, start, length } = blobAnswer(digest, body.length, ctx.req.headers.range);
  ctx.res.writeHead(status, headers);
  if (ctx.method === "HEAD") return void ctx.res.end();
  onBytes(length);
  ctx.res.end(body.subarray(start, start + length));
}
