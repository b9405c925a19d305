import "server-only";
import { isMap, isScalar, parseDocument, visit, type Document, type Node } from "yaml";
import { ChartArchiveError, readChartArchive, writeChartArchive, type ChartFile } from "./chart-archive";

/**
 * A license's variant of a vendor's chart: the same chart with a
 * `global.gantry` block in values.yaml (the license's pull secret, license
 * fields and image map) and, when the app asks for it, a template that
 * creates the pull secret. Deterministic: the same chart and license give the
 * same bytes, so the registry can serve (and cache) one digest per pair.
 */

export interface GantryValues {
  imagePullSecretName: string;
  /** base64 of a docker config JSON, as a `kubernetes.io/dockerconfigjson` Secret's data holds it. */
  dockerconfigjson: string;
  license: { fingerprint: string; customerName: string; type: string; expiresAt: string | null };
  /** Each original image reference to the name the customer pulls. */
  images: Record<string, string>;
  /** Namespaces that get the pull secret besides the release's; `"*"` is skipped by the template (see PULL_SECRET_TEMPLATE). */
  additionalNamespaces: string[];
}

export const VALUES_PATH = "values.yaml";
/** Most bytes of values.yaml Gantry parses (real charts' values are a few to a few hundred KB). */
export const VALUES_MAX_BYTES = 2 * 1024 * 1024;
export const PULL_SECRET_TEMPLATE_PATH = "templates/gantry-pull-secret.yaml";

/**
 * The pull secret in the release namespace and in each additional one.
 * `"*"` (every namespace the app uses, which the installer files resolve
 * from the manifests) cannot be resolved by a template: Helm renders without
 * knowing which namespaces the chart's objects will land in, and `lookup`
 * sees no cluster under `helm template` or `--dry-run`. So it is skipped;
 * list the namespaces explicitly for a Helm install.
 */
export const PULL_SECRET_TEMPLATE = `{{- /* Written by Gantry: the license's image pull secret, in the release namespace and each of global.gantry.additionalNamespaces ("*" is skipped: a template cannot know every namespace the app uses). */ -}}
{{- $gantry := .Values.global.gantry }}
{{- $namespaces := list .Release.Namespace }}
{{- range $gantry.additionalNamespaces }}
{{- if and (ne . "*") (not (has . $namespaces)) }}
{{- $namespaces = append $namespaces . }}
{{- end }}
{{- end }}
{{- range $namespaces }}
---
apiVersion: v1
kind: Secret
metadata:
  name: {{ $gantry.imagePullSecretName | quote }}
  namespace: {{ . | quote }}
  labels:
    app.kubernetes.io/managed-by: {{ $.Release.Service | quote }}
    app.kubernetes.io/instance: {{ $.Release.Name | quote }}
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: {{ $gantry.dockerconfigjson | quote }}
{{- end }}
`;

/**
 * The block as written, built field by field so that nothing the caller's
 * objects carry beyond GantryValues (a license ID, say) reaches the chart.
 * Images sorted so that the map's order in the database never changes the digest.
 */
export function gantryBlock(g: GantryValues): Record<string, unknown> {
  const images: Record<string, string> = {};
  for (const [from, to] of Object.entries(g.images).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) images[from] = to;
  return {
    imagePullSecretName: g.imagePullSecretName,
    dockerconfigjson: g.dockerconfigjson,
    license: {
      fingerprint: g.license.fingerprint,
      customerName: g.license.customerName,
      type: g.license.type,
      expiresAt: g.license.expiresAt,
    },
    images,
    additionalNamespaces: [...g.additionalNamespaces],
  };
}

function isEmpty(node: unknown): boolean {
  return node == null || (isScalar(node) && node.value == null);
}

/**
 * values.yaml with `global.gantry` added or replaced and everything else kept,
 * comments included. Read as YAML 1.1, as Helm reads it: `0777` stays octal
 * and our strings are quoted where Helm would take them for something else
 * (a customer named "yes"); integers as BigInt so that large ones keep every digit.
 */
export function mergeGantryValues(valuesYaml: string | null, gantry: GantryValues): string {
  // The YAML parser's memory grows several times over its input: a values.yaml that compresses to nothing must not take the server.
  if (valuesYaml !== null && Buffer.byteLength(valuesYaml) > VALUES_MAX_BYTES) {
    throw new ChartArchiveError("too_large", `values.yaml is ${Buffer.byteLength(valuesYaml)} bytes, over the ${VALUES_MAX_BYTES}-byte limit for charts Gantry prepares per license`);
  }
  const doc: Document = parseDocument(valuesYaml ?? "", { version: "1.1", intAsBigInt: true, prettyErrors: false });
  if (doc.errors.length > 0) throw new ChartArchiveError("not_a_chart", `values.yaml is not YAML: ${doc.errors[0]?.message}`);
  if (isEmpty(doc.contents)) doc.contents = doc.createNode({}) as Node as typeof doc.contents;
  const top = doc.contents;
  if (!isMap(top)) throw new ChartArchiveError("not_a_chart", "values.yaml is not a map");
  const block = doc.createNode(gantryBlock(gantry));
  // The yaml library quotes every string YAML 1.1 would read as something else, except `<<`, which its 1.1 schema takes for a merge key.
  visit(block, {
    Scalar(_, node) {
      if (node.value === "<<") Object.assign(node, { tag: "tag:yaml.org,2002:str", type: "QUOTE_DOUBLE" });
    },
  });
  const global = top.get("global", true);
  if (isMap(global)) {
    // `global: {}` would otherwise render the whole block in flow style on one line.
    if (global.items.length === 0) global.flow = false;
    global.set("gantry", block);
  } else if (isEmpty(global)) {
    top.set("global", doc.createNode({ gantry: block }));
  } else {
    throw new ChartArchiveError("not_a_chart", "values.yaml: global is not a map");
  }
  if (top.flow && top.items.length === 1) top.flow = false;
  // lineWidth 0: no folding, so the vendor's long lines stay as written.
  return doc.toString({ lineWidth: 0 });
}

/**
 * The license's variant of a chart archive. The vendor's files keep their
 * order; values.yaml is rewritten in place (added after Chart.yaml when the
 * chart has none) and the pull-secret template replaces a file of that name
 * or is added last.
 */
export async function buildLicenseVariant(chartTgz: Buffer, gantry: GantryValues, opts: { pullSecretTemplate: boolean }): Promise<Buffer> {
  const chart = await readChartArchive(chartTgz);
  const files: ChartFile[] = chart.files.map((f) => ({ ...f }));
  const values = files.find((f) => f.path === VALUES_PATH);
  const merged = Buffer.from(mergeGantryValues(values ? values.data.toString("utf8") : null, gantry), "utf8");
  if (values) values.data = merged;
  else files.splice(files.findIndex((f) => f.path === "Chart.yaml") + 1, 0, { path: VALUES_PATH, data: merged });
  if (opts.pullSecretTemplate) {
    const template = Buffer.from(PULL_SECRET_TEMPLATE, "utf8");
    const existing = files.find((f) => f.path === PULL_SECRET_TEMPLATE_PATH);
    if (existing) existing.data = template;
    else files.push({ path: PULL_SECRET_TEMPLATE_PATH, data: template });
  }
  return writeChartArchive(chart.root, files);
}
