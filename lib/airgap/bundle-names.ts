import "server-only";
import crypto from "node:crypto";
import { parseReference, type ImageReference } from "@/lib/registry-client/reference";

/**
 * Names of a bundle's images: where each lands in the customer's registry
 * (target repository and tag) and its ref name in images/index.json.
 *
 * - target: the source's repository path ("quay.io/acme/api" → "acme/api"),
 *   one per distinct source repository: two tags of one repository share a
 *   target (the overlay maps the written name once); two registries' "acme/api"
 *   get "acme/api" and "acme/api-2", numbered in sorted order of the source
 *   names so the result does not depend on the order images are listed in.
 * - tag: the source's tag ("latest" when none was written); a digest-only
 *   source gets "sha256-<12 hex>" (a registry needs a tag to list it by).
 * - refName: "<target>:<tag>", which skopeo's `oci:DIR:REF` accepts when it
 *   matches the OCI ref-name grammar; a tag outside it ("_x", "a..b") is
 *   replaced by one derived from the source.
 */

/** OCI image-spec, annotation org.opencontainers.image.ref.name; containers/image validates `oci:DIR:REF` with it. */
export const OCI_REF_NAME_RE = /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;
/** Distribution spec: a repository name is path components joined by "/". */
export const REPOSITORY_PATH_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
/** Distribution spec: a tag. */
export const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const SHA256_DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
/**
 * A target's longest length: the customer's prefix comes in front of it and
 * distribution refuses names over 255 characters, so leave room for one.
 */
export const TARGET_MAX = 160;

export interface BundleImageName {
  source: string;
  target: string;
  tag: string;
  refName: string;
}

/** The tag an image is pushed under in the customer's registry. */
export function pushTagFor(ref: ImageReference, digest: string): string {
  if (ref.tag !== undefined) return ref.tag;
  if (ref.digest === undefined) return "latest";
  return `sha256-${digest.slice("sha256:".length, "sha256:".length + 12)}`;
}

const shortHash = (s: string) => crypto.createHash("sha256").update(s).digest("hex").slice(0, 12);

/** A repository path of at most TARGET_MAX characters: a long one keeps its start and gets a hash of the whole. */
function boundedPath(path: string): string {
  if (path.length <= TARGET_MAX) return path;
  const head = path.slice(0, TARGET_MAX - 13).replace(/[^a-z0-9]+$/, "");
  return `${head}-${shortHash(path)}`;
}

/** target/tag/refName for each image (same order as given); see the file comment. Throws when two images would push different digests to one tag. */
export function nameBundleImages(images: { source: string; digest: string }[]): BundleImageName[] {
  const refs = images.map((i) => parseReference(i.source));
  for (const i of images) if (!SHA256_DIGEST_RE.test(i.digest)) throw new Error(`${i.source}: digest "${i.digest}" is not sha256:<64 hex>`);

  const targets = new Map<string, string>();
  const taken = new Set<string>();
  for (const name of [...new Set(refs.map((r) => r.name))].sort()) {
    const base = boundedPath(name.slice(name.indexOf("/") + 1));
    let target = base;
    for (let n = 2; taken.has(target); n++) target = `${base}-${n}`;
    taken.add(target);
    targets.set(name, target);
  }

  const pushed = new Map<string, string>();
  const refNames = new Set<string>();
  return images.map((image, i) => {
    const ref = refs[i]!;
    const target = targets.get(ref.name)!;
    const tag = pushTagFor(ref, image.digest);
    const key = `${target}:${tag}`;
    const other = pushed.get(key);
    if (other !== undefined && other !== image.digest) throw new Error(`${image.source}: ${key} would be pushed with two digests (${other} and ${image.digest}); list the image once`);
    pushed.set(key, image.digest);
    const base = OCI_REF_NAME_RE.test(key) ? key : `${target}:ref-${shortHash(image.source)}`;
    let refName = base;
    for (let n = 2; refNames.has(refName); n++) refName = `${base}-${n}`;
    refNames.add(refName);
    return { source: image.source, target, tag, refName };
  });
}
