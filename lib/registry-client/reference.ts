/**
 * Image references, per the distribution reference grammar
 * (github.com/distribution/reference), with Docker's normalization:
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path-component ( "/" path-component )*
 *   domain    := host [ ":" port ]   (first component with "." or ":", or "localhost",
 *                                     or any uppercase letter; otherwise docker.io)
 *
 * Written by hand because no maintained npm package implements the grammar
 * together with Docker's normalization; the regular expressions below are the
 * grammar's own, transcribed.
 */

const ALPHANUM = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALPHANUM}(?:${SEPARATOR}${ALPHANUM})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const DIGEST_RE = new RegExp(`^${DIGEST}$`);
/** Path component grammar, exported for the proxy's path names. */
export const PATH_COMPONENT_RE = new RegExp(`^${PATH_COMPONENT}$`);

export const NAME_TOTAL_MAX = 255;
export const DOCKER_HUB = "docker.io";
export const DOCKER_HUB_API = "registry-1.docker.io";
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]);

export interface ImageReference {
  /** Exactly as written, for matching the way kustomize does. */
  original: string;
  /** Registry host[:port] as written, or docker.io when omitted; Docker Hub spellings become docker.io. */
  domain: string;
  /** Repository path within the registry, with library/ added for official Docker Hub images. */
  path: string;
  tag: string | undefined;
  digest: string | undefined;
  /** The name part as written (no tag or digest): what kustomize's images[].name matches. */
  writtenName: string;
  /** domain/path */
  name: string;
  /** Fully normalized: domain/path[:tag][@digest], with the tag defaulted to latest when there is no digest. */
  normalized: string;
  /** True when the reference named no tag and no digest (so "latest" is implied). */
  impliedLatest: boolean;
}

export class ReferenceError extends Error {
  override name = "ReferenceError";
  constructor(
    message: string,
    readonly input: string,
  ) {
    super(message);
  }
}

export function isDockerHub(domain: string): boolean {
  return DOCKER_HUB_ALIASES.has(domain.toLowerCase());
}

/** Parses and normalizes an image reference, or throws ReferenceError with a clear reason. */
export function parseReference(input: string): ImageReference {
  const original = input;
  const s = input.trim();
  if (s !== input) throw new ReferenceError("has leading or trailing whitespace", input);
  if (s === "") throw new ReferenceError("is empty", input);
  if (s.length > 4096) throw new ReferenceError("is too long", input);

  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw new ReferenceError(`has an invalid digest "${digest}"`, input);
    const [algorithm, hex = ""] = digest.split(":");
    if (algorithm === "sha256" && !/^[a-f0-9]{64}$/.test(hex)) throw new ReferenceError("has a sha256 digest that is not 64 lowercase hex characters", input);
    if (algorithm === "sha512" && !/^[a-f0-9]{128}$/.test(hex)) throw new ReferenceError("has a sha512 digest that is not 128 lowercase hex characters", input);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw new ReferenceError(`has an invalid tag "${tag}"`, input);
  }
  if (rest === "") throw new ReferenceError("has no repository name", input);
  const writtenName = rest;

  let domain: string;
  let path: string;
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  if (slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost" || first.toLowerCase() !== first)) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!DOMAIN_RE.test(domain)) throw new ReferenceError(`has an invalid registry host "${domain}"`, input);
  } else {
    domain = DOCKER_HUB;
    path = rest;
  }
  if (isDockerHub(domain)) {
    domain = DOCKER_HUB;
    if (!path.includes("/")) path = `library/${path}`;
  }
  if (path !== path.toLowerCase()) throw new ReferenceError("has uppercase letters in the repository name (it must be lowercase)", input);
  if (!PATH_RE.test(path)) throw new ReferenceError(`has an invalid repository name "${path}"`, input);
  const name = `${domain}/${path}`;
  if (name.length > NAME_TOTAL_MAX) throw new ReferenceError(`has a repository name longer than ${NAME_TOTAL_MAX} characters`, input);

  const impliedLatest = tag === undefined && digest === undefined;
  const normalized = `${name}${tag !== undefined ? `:${tag}` : impliedLatest ? ":latest" : ""}${digest ? `@${digest}` : ""}`;
  return { original, domain, path, tag, digest, writtenName, name, normalized, impliedLatest };
}

/** The reference to fetch a manifest by: the digest when there is one, else the tag (default latest). */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? "latest";
}

/** The API host for a domain: Docker Hub's API lives on registry-1.docker.io. */
export function apiHostFor(domain: string): string {
  return isDockerHub(domain) ? DOCKER_HUB_API : domain;
}
