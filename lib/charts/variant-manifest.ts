import { HELM_CHART_MEDIA_TYPE, HELM_PROVENANCE_MEDIA_TYPE } from "./media-types";

/** The manifest of a license's chart variant, derived from the vendor's chart manifest (pure: unit-tested). */
interface StoredManifest {
  mediaType?: string;
  layers?: { mediaType?: string; digest?: string; size?: number }[];
  [k: string]: unknown;
}

/** The variant's manifest: the vendor's, with the chart layer replaced and the provenance layer left out; everything else as pushed. */
export function variantManifest(original: Buffer, layer: { digest: string; size: number }): { bytes: Buffer; mediaType: string } {
  const m = JSON.parse(original.toString("utf8")) as StoredManifest;
  const layers = (m.layers ?? []).filter((l) => l.mediaType !== HELM_PROVENANCE_MEDIA_TYPE).map((l) => (l.mediaType === HELM_CHART_MEDIA_TYPE ? { ...l, digest: layer.digest, size: layer.size } : l));
  return { bytes: Buffer.from(JSON.stringify({ ...m, layers })), mediaType: m.mediaType ?? "application/vnd.oci.image.manifest.v1+json" };
}

/** The chart archive's digest in a vendor's chart manifest (null: not a chart manifest Gantry can vary). */
export function chartLayerOf(manifest: Buffer): { digest: string; size: number } | null {
  try {
    const m = JSON.parse(manifest.toString("utf8")) as StoredManifest;
    const charts = (m.layers ?? []).filter((l) => l.mediaType === HELM_CHART_MEDIA_TYPE);
    const only = charts.length === 1 ? charts[0] : undefined;
    return only && typeof only.digest === "string" && typeof only.size === "number" ? { digest: only.digest, size: only.size } : null;
  } catch {
    return null;
  }
}

