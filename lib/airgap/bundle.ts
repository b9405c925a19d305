import "server-only";
import crypto from "node:crypto";
import { getApp } from "@/lib/apps/apps";
import { licenseVariant } from "@/lib/charts/license-variants";
import { CHART_LIMITS } from "@/lib/charts/chart-archive";
import { db } from "@/lib/db";
import { AppError, notFound } from "@/lib/errors";
import { licenseState } from "@/lib/licenses/state";
import { installerForLicenseRow, safeFileName } from "@/lib/releases/installer";
import { releaseForInstaller } from "@/lib/releases/releases";
import { describePin, releaseWithinPin } from "@/lib/releases/scope";
import { hostedContent } from "./hosted-source";
import { memoryEntry, planLayout } from "./oci-layout";
import { bundleReadme, nameBundleImages, pushScript, type BundleImage } from "./push-script";
import { releaseImages } from "./release-images";
import { planArchive, type TarArchive, type TarEntry } from "./tar-archive";

/**
 * An air-gap bundle: one tar of a release for one license, planned before its
 * first byte (its size, its ETag) and streamed from the cache and the
 * registries, any range of it on its own. Layout, under `<app>-<version>/`:
 * README.md, push.sh, images.json (what is inside), images/ (an OCI image
 * layout), charts/ (the license's variant of each chart), manifests/ (the
 * release's manifests, the overlay's base), installer/ (the online installer
 * files of the license, for reference).
 */
export interface BundleRequest {
  teamId: string;
  appSlug: string;
  version: string;
  licenseRowId: string;
  /** Public images too (default), or only what needs the license. */
  includePublic: boolean;
  signal?: AbortSignal;
}

export interface PlannedBundle {
  archive: TarArchive;
  /** Strong: names every byte (the layout's index, and every generated file's hash). */
  etag: string;
  fileName: string;
  app: { id: string; slug: string; teamId: string };
  version: string;
  licenseRowId: string;
  images: (BundleImage & { platforms: string[]; kind: string })[];
  charts: { file: string; name: string; version: string }[];
  blobBytes: number;
}

/** The release is beyond the license's pin: a vendor is told so; a customer sees no such release, as on the install page. */
export class BeyondPinError extends AppError {
  constructor(message: string) {
    super("FORBIDDEN", message);
  }
}

/** A license that may install this release now, or the refusal: revoked or expired, beyond its pin, another app's. */
export async function authorizeBundle(teamId: string, appId: string, version: string, licenseRowId: string) {
  const license = await db.license.findFirst({
    where: { id: licenseRowId, teamId, appId },
    select: { id: true, revokedAt: true, expiresAt: true, maxVersion: true, releasedBefore: true, customer: { select: { name: true } } },
  });
  if (!license) throw notFound("License");
  const state = licenseState(license);
  if (state !== "active") throw new AppError("FORBIDDEN", `This license is ${state}: it cannot download a bundle.`);
  const release = await db.release.findFirst({ where: { teamId, appId, version }, select: { version: true, createdAt: true, archivedAt: true } });
  if (!release) throw notFound("Release");
  const pin = { maxVersion: license.maxVersion, releasedBefore: license.releasedBefore };
  if (!releaseWithinPin(release, pin)) throw new BeyondPinError(`Release ${version} is not among the releases this license may install (${describePin(pin)}).`);
  return { license, pin, release };
}

/**
 * The archive's own format: part of the ETag, so a change to how Gantry lays a
 * bundle out (entry order, headers) is a different ETag and a resume across an
 * upgrade never splices two layouts. Bump it with any such change.
 */
const FORMAT = "gantry-airgap-1";

/** What the release itself makes impossible to bundle (two images for one tag, a chart twice, a name a tar cannot hold): the vendor's to fix, said as such. */
function vendorInput<T>(build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError("CONFLICT", `This release cannot be bundled: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const sha256 = (b: Buffer | string) => crypto.createHash("sha256").update(b).digest("hex");

export async function planBundle(req: BundleRequest): Promise<PlannedBundle> {
  const app = await getApp(req.teamId, req.appSlug);
  const { license, pin } = await authorizeBundle(req.teamId, app.id, req.version, req.licenseRowId);
  const release = await releaseForInstaller(req.teamId, app.id, req.version);
  const root = `${safeFileName(app.slug)}-${safeFileName(release.version)}`;

  // The vendor's choice on the release, which a download may narrow further (?public=false), never widen.
  const images = await releaseImages(req.teamId, app, release, { includePublic: req.includePublic && release.airgapPublic });
  const names = vendorInput(() => nameBundleImages(images.map((i) => ({ source: i.source, digest: i.digest }))));
  const layout = await planLayout(
    images.map((image, i) => ({ refName: names[i]!.refName, digest: image.digest, content: image.content, label: image.source, narrow: !image.byDigest })),
    `${root}/images`,
    req.signal,
    release.platforms,
  );
  const bundleImages = images.map((image, i) => ({
    source: image.source,
    writtenNames: image.writtenNames,
    refName: names[i]!.refName,
    target: names[i]!.target,
    tag: names[i]!.tag,
    // The layout's: an index narrowed to the release's platforms has a digest of its own.
    digest: layout.images[i]!.digest,
    kind: image.kind,
    platforms: layout.images[i]!.platforms,
  }));

  // Charts: the license's variant (its values filled in), read from Gantry's registry.
  const charts: { file: string; name: string; version: string; bytes: Buffer }[] = [];
  for (const chart of release.charts) {
    const hosted = hostedContent(app.id, chart.repository);
    const { bytes: manifest } = await hosted.manifest(chart.digest, req.signal);
    const variant = await licenseVariant({ licenseRowId: license.id, teamId: req.teamId, appId: app.id, pin }, { manifest, digest: chart.digest, repository: chart.repository, tag: chart.tag }, async (digest) => {
      const size = layerSize(manifest, digest);
      if (size === null || size > CHART_LIMITS.compressedBytes) return null;
      const parts: Buffer[] = [];
      for await (const part of await hosted.blob(digest, size, 0, size - 1)) parts.push(Buffer.from(part));
      return Buffer.concat(parts);
    });
    charts.push({ file: `${safeFileName(chart.name)}-${safeFileName(chart.tag)}.tgz`, name: chart.name, version: chart.tag, bytes: variant.layer });
  }

  const installer = await installerForLicenseRow(req.teamId, app.slug, release.version, license.id);
  const chartList = charts.map(({ file, name, version }) => ({ file, name, version }));
  const script = { appSlug: app.slug, appName: app.name, version: release.version, images: bundleImages, charts: chartList };
  const generated: { path: string; bytes: Buffer; mode?: number }[] = [
    { path: "README.md", bytes: Buffer.from(vendorInput(() => bundleReadme({ ...script, customerName: license.customer.name }))) },
    { path: "push.sh", bytes: Buffer.from(vendorInput(() => pushScript(script))), mode: 0o755 },
    { path: "images.json", bytes: Buffer.from(`${JSON.stringify(bundleImages.map(({ source, refName, target, tag, digest, platforms, kind }) => ({ source, refName, target, tag, digest, platforms, kind })), null, 2)}\n`) },
    ...charts.map((c) => ({ path: `charts/${c.file}`, bytes: c.bytes })),
    // The manifests as the overlay's base; the online installer whole (its overlay refers to ../../base).
    ...installer.files.filter((f) => f.path.startsWith("base/")).map((f) => ({ path: `manifests/${f.path.slice(5)}`, bytes: Buffer.from(f.content) })),
    ...installer.files.map((f) => ({ path: `installer/${f.path}`, bytes: Buffer.from(f.content) })),
  ];
  const dirs = [...new Set(generated.flatMap((g) => g.path.split("/").slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join("/"))))].sort();
  const entries: TarEntry[] = [
    { type: "directory", path: root },
    ...generated.slice(0, 3).map((g) => memoryEntry(`${root}/${g.path}`, g.bytes, g.mode)),
    ...layout.entries,
    ...dirs.map((d): TarEntry => ({ type: "directory", path: `${root}/${d}` })),
    ...generated.slice(3).map((g) => memoryEntry(`${root}/${g.path}`, g.bytes, g.mode)),
  ];
  const archive = vendorInput(() => planArchive(entries));
  const etag = `"sha256:${sha256(JSON.stringify([FORMAT, layout.indexDigest, ...generated.map((g) => [g.path, g.mode ?? 0, sha256(g.bytes)])]))}"`;
  return {
    archive,
    etag,
    fileName: `${root}-airgap.tar`,
    app: { id: app.id, slug: app.slug, teamId: req.teamId },
    version: release.version,
    licenseRowId: license.id,
    images: bundleImages,
    charts: chartList,
    blobBytes: layout.blobBytes,
  };
}

/** The size of a layer a chart manifest names, or null. */
function layerSize(manifest: Buffer, digest: string): number | null {
  try {
    const parsed = JSON.parse(manifest.toString("utf8")) as { layers?: { digest?: string; size?: number }[] };
    const size = parsed.layers?.find((l) => l.digest === digest)?.size;
    return typeof size === "number" && Number.isSafeInteger(size) && size >= 0 ? size : null;
  } catch {
    return null;
  }
}
