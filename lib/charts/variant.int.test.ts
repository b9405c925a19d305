import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { helmTools, runTool, type K8sObject } from "../deploy/helm";
import { ChartArchiveError, readChartArchive, readChartMetadata } from "./chart-archive";
import { GANTRY, rawTgz } from "./test-archives";
import { buildLicenseVariant, type GantryValues } from "./variant";

/**
 * The variant against the real Helm 4 client: a chart as `helm create` and
 * `helm package` make it, the variant linted and rendered by Helm itself.
 */

const IMAGE_TEMPLATE = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-images
data:
  api: {{ index .Values.global.gantry.images "quay.io/acme/api:1.2" | quote }}
  customer: {{ .Values.global.gantry.license.customerName | quote }}
`;

const LICENSE: GantryValues = { ...GANTRY, additionalNamespaces: ["monitoring", "*", "shop"] };

let helm: string;
let dir: string;
let vendorTgz: Buffer;

async function helmOk(args: string[]): Promise<string> {
  const r = await runTool(helm, args);
  expect(r.stderr, `helm ${args.join(" ")}`).not.toMatch(/Error/);
  expect(r.code, `helm ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

function writeTgz(name: string, bytes: Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

async function render(tgzFile: string, namespace: string): Promise<K8sObject[]> {
  const out = await helmOk(["template", "rel", tgzFile, "--namespace", namespace]);
  return parseAllDocuments(out)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

beforeAll(async () => {
  ({ helm } = await helmTools());
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-chart-variant-"));
  await helmOk(["create", path.join(dir, "acme")]);
  // The vendor's own globals and a template that reads the image map, as a vendor writes it for Gantry.
  fs.appendFileSync(path.join(dir, "acme/values.yaml"), "\n# Shared with subcharts.\nglobal:\n  imageRegistry: vendor.example\n");
  fs.writeFileSync(path.join(dir, "acme/templates/images.yaml"), IMAGE_TEMPLATE);
  await helmOk(["package", path.join(dir, "acme"), "--destination", dir]);
  vendorTgz = fs.readFileSync(path.join(dir, "acme-0.1.0.tgz"));
}, 600_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("a license's variant of a `helm package`d chart", () => {
  it("reads the packaged chart's metadata", async () => {
    expect(await readChartMetadata(vendorTgz)).toEqual({ name: "acme", version: "0.1.0", appVersion: "1.16.0", description: "A Helm chart for Kubernetes" });
  });

  it("passes `helm lint` and keeps Chart.yaml as Helm shows it", async () => {
    const variant = writeTgz("variant.tgz", await buildLicenseVariant(vendorTgz, LICENSE, { pullSecretTemplate: true }));
    const lint = await runTool(helm, ["lint", variant, "--strict"]);
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);
    expect(lint.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(await helmOk(["show", "chart", variant])).toBe(await helmOk(["show", "chart", writeTgz("vendor.tgz", vendorTgz)]));
  });

  it("renders the pull secret in the release namespace and each additional one, and the image map", async () => {
    const variant = writeTgz("variant.tgz", await buildLicenseVariant(vendorTgz, LICENSE, { pullSecretTemplate: true }));
    const objects = await render(variant, "shop");
    const secrets = objects.filter((o) => o.kind === "Secret");
    // "shop" is both the release namespace and listed: one Secret there; "*" is skipped.
    expect(secrets.map((s) => ({ name: s.metadata.name, namespace: (s.metadata as { namespace?: string }).namespace, type: (s as { type?: string }).type, data: s.data }))).toEqual(
      ["shop", "monitoring"].map((namespace) => ({ name: "acme-pull", namespace, type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": LICENSE.dockerconfigjson } })),
    );
    const images = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "rel-images");
    expect(images?.data).toEqual({ api: "pull.example.com/acme/quay/acme/api:1.2", customer: "yes" });
    // The vendor's own objects render as before, with the vendor's values.
    const deployment = objects.find((o) => o.kind === "Deployment");
    expect(deployment?.spec.template.spec.containers[0].image).toBe("nginx:1.16.0");
  });

  it("without the template option renders no Secret", async () => {
    const variant = writeTgz("variant-no-secret.tgz", await buildLicenseVariant(vendorTgz, LICENSE, { pullSecretTemplate: false }));
    expect((await render(variant, "shop")).filter((o) => o.kind === "Secret")).toEqual([]);
  });

  it("keeps the vendor's values, comments and other globals", async () => {
    const variant = writeTgz("variant.tgz", await buildLicenseVariant(vendorTgz, LICENSE, { pullSecretTemplate: true }));
    const vendorValues = parse(await helmOk(["show", "values", writeTgz("vendor.tgz", vendorTgz)])) as Record<string, unknown>;
    const shown = await helmOk(["show", "values", variant]);
    const values = parse(shown) as Record<string, unknown> & { global: Record<string, unknown> };
    const { gantry, ...otherGlobals } = values.global;
    expect({ ...values, global: otherGlobals }).toEqual(vendorValues);
    expect(otherGlobals).toEqual({ imageRegistry: "vendor.example" });
    expect(gantry).toEqual({ ...LICENSE, images: Object.fromEntries(Object.entries(LICENSE.images).sort()) });
    expect(shown).toContain("# Default values for acme.");
    expect(shown).toContain("# Shared with subcharts.");
  });

  it("is the same bytes for the same license and chart, and different bytes for another license", async () => {
    const a = await buildLicenseVariant(vendorTgz, LICENSE, { pullSecretTemplate: true });
    const b = await buildLicenseVariant(vendorTgz, structuredClone(LICENSE), { pullSecretTemplate: true });
    const other = await buildLicenseVariant(vendorTgz, { ...LICENSE, license: { ...LICENSE.license, customerName: "Globex" } }, { pullSecretTemplate: true });
    const digest = (x: Buffer) => crypto.createHash("sha256").update(x).digest("hex");
    expect(digest(b)).toBe(digest(a));
    expect(digest(other)).not.toBe(digest(a));
    // Helm reads back what it packaged in the variant: the same files, values.yaml and the template aside.
    const [vendor, variant] = await Promise.all([readChartArchive(vendorTgz), readChartArchive(a)]);
    expect(variant.files.filter((f) => f.path !== "values.yaml" && f.path !== "templates/gantry-pull-secret.yaml")).toEqual(vendor.files.filter((f) => f.path !== "values.yaml"));
  });

  it.each<[string, () => Promise<Buffer>, ChartArchiveError["reason"]]>([
    ["path traversal", () => rawTgz([{ name: "acme/Chart.yaml", data: "name: acme\nversion: 1.0.0\n" }, { name: "acme/../../evil", data: "x" }]), "unsafe_entry"],
    ["a symlink", () => rawTgz([{ name: "acme/Chart.yaml", data: "name: acme\nversion: 1.0.0\n" }, { name: "acme/values.yaml", type: "symlink", linkname: "/etc/passwd" }]), "unsafe_entry"],
    [
      "too many entries",
      () => rawTgz([{ name: "acme/Chart.yaml", data: "name: acme\nversion: 1.0.0\n" }, ...Array.from({ length: 10_000 }, (_, i) => ({ name: `acme/files/${i}`, data: "" }))]),
      "too_large",
    ],
    ["a gzip bomb", () => rawTgz([{ name: "acme/Chart.yaml", data: "name: acme\nversion: 1.0.0\n" }, { name: "acme/bomb", data: Buffer.alloc(60 * 1024 * 1024) }]), "too_large"],
  ])("refuses %s, writing nothing", async (_, make, reason) => {
    const before = fs.readdirSync(dir).sort();
    await expect(buildLicenseVariant(await make(), LICENSE, { pullSecretTemplate: true })).rejects.toMatchObject({ name: "ChartArchiveError", reason });
    expect(fs.readdirSync(dir).sort()).toEqual(before);
  });
});
