import { describe, expect, it } from "vitest";
import { HELM_CHART_MEDIA_TYPE, HELM_CONFIG_MEDIA_TYPE, HELM_PROVENANCE_MEDIA_TYPE } from "./media-types";
import { chartFieldsOf } from "./pushed-charts";
import { chartLayerOf, variantManifest } from "./variant-manifest";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const helmManifest = (layers: { mediaType: string; digest: string; size: number }[]) =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: HELM_CONFIG_MEDIA_TYPE, digest: d("c"), size: 120 },
      layers,
      annotations: { "org.opencontainers.image.title": "shop", "org.opencontainers.image.version": "0.1.0" },
    }),
  );

describe("a variant's manifest", () => {
  const chart = { mediaType: HELM_CHART_MEDIA_TYPE, digest: d("a"), size: 3000 };
  const prov = { mediaType: HELM_PROVENANCE_MEDIA_TYPE, digest: d("b"), size: 900 };

  it("replaces the chart layer, drops the provenance layer, keeps config and annotations", () => {
    const { bytes, mediaType } = variantManifest(helmManifest([chart, prov]), { digest: d("e"), size: 3100 });
    const m = JSON.parse(bytes.toString("utf8")) as { config: unknown; layers: unknown[]; annotations: unknown };
    expect(mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(m.layers).toEqual([{ mediaType: HELM_CHART_MEDIA_TYPE, digest: d("e"), size: 3100 }]);
    expect(m.config).toEqual({ mediaType: HELM_CONFIG_MEDIA_TYPE, digest: d("c"), size: 120 });
    expect(m.annotations).toEqual({ "org.opencontainers.image.title": "shop", "org.opencontainers.image.version": "0.1.0" });
  });

  it("is deterministic: the same inputs give the same bytes", () => {
    const a = variantManifest(helmManifest([chart]), { digest: d("e"), size: 1 }).bytes;
    const b = variantManifest(helmManifest([chart]), { digest: d("e"), size: 1 }).bytes;
    expect(a.equals(b)).toBe(true);
  });

  it("finds exactly one chart layer, else none", () => {
    expect(chartLayerOf(helmManifest([chart, prov]))).toEqual({ digest: d("a"), size: 3000 });
    expect(chartLayerOf(helmManifest([prov]))).toBeNull();
    expect(chartLayerOf(helmManifest([chart, { ...chart, digest: d("f") }]))).toBeNull();
    expect(chartLayerOf(Buffer.from("not json"))).toBeNull();
  });
});

describe("a chart's config", () => {
  it("reads Chart.yaml's fields and notes a provenance layer", () => {
    const config = Buffer.from(JSON.stringify({ name: "shop", version: "0.1.0", appVersion: "1.16.0", description: "The shop", apiVersion: "v2", type: "application" }));
    expect(chartFieldsOf(config, [HELM_CHART_MEDIA_TYPE, HELM_PROVENANCE_MEDIA_TYPE])).toEqual({ name: "shop", version: "0.1.0", appVersion: "1.16.0", description: "The shop", provenance: true });
    expect(chartFieldsOf(Buffer.from(JSON.stringify({ name: "shop", version: "1", appVersion: 2 })), [HELM_CHART_MEDIA_TYPE])).toMatchObject({ appVersion: "2", description: null, provenance: false });
  });

  it("is null for a config that is not a chart's", () => {
    expect(chartFieldsOf(Buffer.from("{}"), [])).toBeNull();
    expect(chartFieldsOf(Buffer.from("garbage"), [])).toBeNull();
    expect(chartFieldsOf(Buffer.from(JSON.stringify({ name: "", version: "1" })), [])).toBeNull();
  });
});

describe("values.yaml bound", () => {
  it("refuses a values.yaml over the limit before parsing it", async () => {
    const { mergeGantryValues, VALUES_MAX_BYTES } = await import("./variant");
    const { GANTRY } = await import("./test-archives");
    const huge = `a: "${"x".repeat(VALUES_MAX_BYTES)}"\n`;
    expect(() => mergeGantryValues(huge, { ...GANTRY, additionalNamespaces: [] })).toThrow(/over the 2097152-byte limit/);
    expect(mergeGantryValues("a: 1\n", { ...GANTRY, additionalNamespaces: [] })).toContain("gantry:");
  });
});
