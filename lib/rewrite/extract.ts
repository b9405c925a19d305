import YAML, { LineCounter, type Document } from "yaml";

/**
 * Finds every container image in Kubernetes manifests: `containers`,
 * `initContainers` and `ephemeralContainers` of a Pod spec, of any object with
 * `spec.template.spec` (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
 * ReplicationController, custom resources of that shape), of a PodTemplate's
 * `template.spec`, and of a CronJob's `spec.jobTemplate.spec.template.spec`.
 */
export const MAX_INPUT_BYTES = 2 * 1024 * 1024;
export const MAX_FILES = 50;
export const MAX_IMAGES = 500;

export interface ManifestFile {
  name: string;
  content: string;
}

export interface ImageOccurrence {
  image: string;
  file: string;
  /** 1-based document number within the file. */
  document: number;
  kind: string;
  name: string;
  namespace: string | undefined;
  apiVersion: string;
  /** Where the pod spec is inside the object, e.g. ["spec", "template", "spec"]. */
  podSpecPath: string[];
  /** e.g. "containers[0]" */
  container: string;
  line: number | undefined;
}

/** An object that has images, with where its pod spec lives (for imagePullSecrets patches). */
export interface WorkloadRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string | undefined;
  podSpecPath: string[];
  file: string;
  document: number;
  existingPullSecrets: string[];
}

export class ManifestError extends Error {
  override name = "ManifestError";
  constructor(
    message: string,
    readonly file: string,
    readonly document: number | undefined,
    readonly line: number | undefined,
    readonly code: "YAML" | "TOO_LARGE" | "TOO_MANY" | "TOO_COMPLEX" = "YAML",
  ) {
    super(message);
  }
}

const CONTAINER_LISTS = ["containers", "initContainers", "ephemeralContainers"] as const;

function podSpecPaths(obj: Record<string, unknown>): string[][] {
  const kind = typeof obj.kind === "string" ? obj.kind : "";
  if (kind === "Pod") return [["spec"]];
  if (kind === "PodTemplate") return [["template", "spec"]];
  if (kind === "CronJob") return [["spec", "jobTemplate", "spec", "template", "spec"]];
  return [["spec", "template", "spec"]];
}

function at(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const key of path) {
    if (!cur || typeof cur !== "object" || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * A manifest value as text. String() throws on an object whose toString and
 * valueOf are data, not functions (`image: {toString: 0}`), so fall back to
 * the same "[object Object]" any other object gives.
 */
function asText(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function lineOf(doc: Document, path: (string | number)[], counter: LineCounter): number | undefined {
  const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  const offset = node?.range?.[0];
  return offset === undefined ? undefined : counter.linePos(offset).line;
}

/** Parses the files and returns every image occurrence and the workloads that hold them. */
export function extractImages(files: ManifestFile[]): { occurrences: ImageOccurrence[]; workloads: WorkloadRef[] } {
  if (files.length > MAX_FILES) throw new ManifestError(`Too many files: at most ${MAX_FILES}.`, "", undefined, undefined, "TOO_MANY");
  const total = files.reduce((n, f) => n + Buffer.byteLength(f.content, "utf8"), 0);
  if (total > MAX_INPUT_BYTES) {
    throw new ManifestError(`The manifests are ${total} bytes; the limit is ${MAX_INPUT_BYTES} bytes (2 MiB).`, "", undefined, undefined, "TOO_LARGE");
  }
  const occurrences: ImageOccurrence[] = [];
  const workloads: WorkloadRef[] = [];
  for (const file of files) {
    const counter = new LineCounter();
    // logLevel "error": yaml's warnings (e.g. on collection keys) would otherwise go to
    // process.emitWarning, letting anyone who uploads a manifest write to the server's stderr
    const docs = YAML.parseAllDocuments(file.content, { lineCounter: counter, prettyErrors: false, uniqueKeys: false, logLevel: "error" });
    if (!Array.isArray(docs)) throw new ManifestError("Could not read the YAML stream.", file.name, undefined, undefined);
    docs.forEach((doc, index) => {
      const err = doc.errors[0];
      if (err) {
        const line = err.linePos?.[0]?.line ?? counter.linePos(err.pos[0]).line;
        throw new ManifestError(`${file.name}, document ${index + 1}, line ${line}: ${err.message.split("\n")[0]}`, file.name, index + 1, line);
      }
      let obj: unknown;
      try {
        obj = doc.toJS({ maxAliasCount: 100 });
      } catch (e) {
        // e.g. an alias bomb ("billion laughs"): refused, not expanded
        throw new ManifestError(`${file.name}, document ${index + 1}: ${e instanceof Error ? e.message : String(e)}`, file.name, index + 1, undefined);
      }
      if (!obj || typeof obj !== "object" || Array.isArray(obj)) return; // empty documents, comments, lists of nothing
      const o = obj as Record<string, unknown>;
      const metadata = (o.metadata ?? {}) as Record<string, unknown>;
      const kind = typeof o.kind === "string" ? o.kind : "";
      if (kind === "List" && Array.isArray(o.items)) {
        throw new ManifestError(`${file.name}, document ${index + 1}: kind List is not supported; split its items into documents.`, file.name, index + 1, undefined);
      }
      for (const path of podSpecPaths(o)) {
        const spec = at(o, path);
        if (!spec || typeof spec !== "object") continue;
        let found = false;
        for (const list of CONTAINER_LISTS) {
          const containers = (spec as Record<string, unknown>)[list];
          if (!Array.isArray(containers)) continue;
          containers.forEach((c, i) => {
            const image = c && typeof c === "object" ? (c as Record<string, unknown>).image : undefined;
            if (image === undefined) return;
            found = true;
            occurrences.push({
              image: asText(image),
              file: file.name,
              document: index + 1,
              kind,
              name: typeof metadata.name === "string" ? metadata.name : "",
              namespace: typeof metadata.namespace === "string" ? metadata.namespace : undefined,
              apiVersion: typeof o.apiVersion === "string" ? o.apiVersion : "",
              podSpecPath: path,
              container: `${list}[${i}]`,
              line: lineOf(doc, [...path, list, i, "image"], counter),
            });
          });
        }
        if (found) {
          const existing = (spec as Record<string, unknown>).imagePullSecrets;
          workloads.push({
            apiVersion: typeof o.apiVersion === "string" ? o.apiVersion : "",
            kind,
            name: typeof metadata.name === "string" ? metadata.name : "",
            namespace: typeof metadata.namespace === "string" ? metadata.namespace : undefined,
            podSpecPath: path,
            file: file.name,
            document: index + 1,
            existingPullSecrets: Array.isArray(existing)
              ? existing.map((s) => (s && typeof s === "object" ? asText((s as Record<string, unknown>).name ?? "") : "")).filter(Boolean)
              : [],
          });
        }
      }
    });
  }
  const distinct = new Set(occurrences.map((o) => o.image));
  if (distinct.size > MAX_IMAGES) throw new ManifestError(`Too many distinct images: ${distinct.size}; the limit is ${MAX_IMAGES}.`, "", undefined, undefined, "TOO_MANY");
  return { occurrences, workloads };
}
