import "server-only";
import { isValidVersion } from "@/lib/releases/version";
import { parseReference, ReferenceError } from "@/lib/registry-client/reference";
import { OCI_REF_NAME_RE, REPOSITORY_PATH_RE, SHA256_DIGEST_RE, TAG_RE, TARGET_MAX } from "./bundle-names";

/**
 * What Gantry bakes into an air-gap bundle's push.sh and README, and the
 * checks that keep each value inside its grammar: none can break out of the
 * shell quoting or the YAML the script writes, or mislead the overlay.
 */

export interface BundleImage {
  /** The reference as the release's manifests or image list write it, e.g. "quay.io/acme/api:1.0". */
  source: string;
  /** Every spelling of that image in the manifests (kustomize matches names exactly): names without tag or digest. */
  writtenNames: string[];
  /** The ref name in images/index.json. */
  refName: string;
  /** The repository under the customer's prefix, e.g. "acme/api". */
  target: string;
  /** The tag to push under. */
  tag: string;
  /** The manifest or index digest as stored in the layout (sha256:…). */
  digest: string;
}

export interface BundleChart {
  /** File name under charts/, e.g. "api-1.2.0.tgz". */
  file: string;
  name: string;
  version: string;
}

export interface PushScriptInput {
  appSlug: string;
  appName: string;
  version: string;
  images: BundleImage[];
  charts: BundleChart[];
}

export class BundleInputError extends Error {
  override name = "BundleInputError";
}

// Written names are matched by kustomize as unescaped regexes; "[" (an IPv6 host) would be a class.
const WRITTEN_NAME_RE = /^[A-Za-z0-9._:/-]+$/;
const CHART_FILE_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]*\.tgz$/;
const CHART_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Free text (app and customer names) for one line of a comment, a message or Markdown: no control characters, bounded. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Single-quoted for bash; baked values are validated too, this is the second fence. */
export const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Throws BundleInputError naming the first value push.sh could not carry safely. */
export function checkBundleInput(input: PushScriptInput): void {
  const fail = (what: string) => {
    throw new BundleInputError(what);
  };
  if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(input.appSlug)) fail(`app slug "${input.appSlug}" is not a slug`);
  if (!isValidVersion(input.version)) fail(`version "${input.version}" is not a release version label`);
  const refNames = new Set<string>();
  const targetOf = new Map<string, string>();
  const repoOf = new Map<string, string>();
  const pushed = new Map<string, string>();
  for (const image of input.images) {
    let name: string;
    try {
      name = parseReference(image.source).name;
    } catch (e) {
      if (e instanceof ReferenceError) return fail(`image "${image.source}": ${e.message}`);
      throw e;
    }
    const what = `image ${image.source}`;
    if (!OCI_REF_NAME_RE.test(image.refName)) fail(`${what}: ref name "${image.refName}" is not an OCI ref name`);
    if (refNames.has(image.refName)) fail(`${what}: ref name "${image.refName}" is used twice`);
    refNames.add(image.refName);
    if (!REPOSITORY_PATH_RE.test(image.target) || image.target.length > TARGET_MAX) fail(`${what}: target "${image.target}" is not a repository path of at most ${TARGET_MAX} characters`);
    if (!TAG_RE.test(image.tag)) fail(`${what}: tag "${image.tag}" is not a tag`);
    if (!SHA256_DIGEST_RE.test(image.digest)) fail(`${what}: digest "${image.digest}" is not sha256:<64 hex>`);
    // One target per source repository both ways: the overlay maps a written name to one target.
    if ((repoOf.get(image.target) ?? name) !== name) fail(`${what}: target "${image.target}" is also ${repoOf.get(image.target)}'s`);
    if ((targetOf.get(name) ?? image.target) !== image.target) fail(`${what}: ${name} has two targets`);
    repoOf.set(image.target, name);
    targetOf.set(name, image.target);
    const key = `${image.target}:${image.tag}`;
    if ((pushed.get(key) ?? image.digest) !== image.digest) fail(`${what}: ${key} would be pushed with two digests`);
    pushed.set(key, image.digest);
    for (const written of image.writtenNames) {
      let ref;
      try {
        ref = parseReference(written);
      } catch {
        return fail(`${what}: written name "${written}" is not an image name`);
      }
      if (!WRITTEN_NAME_RE.test(written) || ref.tag !== undefined || ref.digest !== undefined) fail(`${what}: written name "${written}" must be a name without tag or digest`);
      if (ref.name !== name) fail(`${what}: written name "${written}" names ${ref.name}, not ${name}`);
    }
  }
  const files = new Set<string>();
  for (const chart of input.charts) {
    if (!CHART_FILE_RE.test(chart.file) || files.has(chart.file)) fail(`chart file "${chart.file}" is not a unique .tgz file name`);
    files.add(chart.file);
    if (!CHART_NAME_RE.test(chart.name)) fail(`chart name "${chart.name}" is not a chart name`);
    if (!isValidVersion(chart.version)) fail(`chart ${chart.name}: version "${chart.version}" is not a version`);
  }
}

/** The Helm release name the README and push.sh suggest for a chart. */
export function chartRelease(input: PushScriptInput, chart: BundleChart): string {
  return input.charts.length === 1 ? input.appSlug : chart.name.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
}
