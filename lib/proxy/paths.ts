import { NAME_TOTAL_MAX, PATH_COMPONENT_RE } from "@/lib/registry-client/reference";
import { ProxyError } from "./errors";

/**
 * Parses /v2/ request paths. A repository name here is
 * proxy/<app-slug>/<upstream>/<repository…>; every component must match the
 * distribution path-component grammar, so "..", "%2e%2e", empty segments and
 * anything percent-encoded are refused before any lookup or upstream request.
 */
export type ProxyRoute =
  | { kind: "base" }
  | { kind: "token" }
  | { kind: "catalog" }
  | { kind: "manifests" | "blobs"; name: ProxyName; reference: string }
  | { kind: "tags"; name: ProxyName };

export interface ProxyName {
  full: string;
  appSlug: string;
  upstream: string;
  repository: string;
}

const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** The digest algorithms registries implement, with their hex lengths. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** Why a digest is not acceptable, or null. */
export function digestProblem(digest: string): string | null {
  if (digest.length > 256 || !DIGEST_RE.test(digest)) return "it is not algorithm:encoded";
  const [algorithm = "", encoded = ""] = digest.split(":");
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) return `the algorithm ${algorithm.slice(0, 20)} is not supported (sha256, sha384, sha512)`;
  if (encoded.length !== length || !/^[a-f0-9]+$/.test(encoded)) return `a ${algorithm} digest is ${length} lowercase hex digits`;
  return null;
}
export const TAG_RE = /^[\w][\w.-]{0,127}$/;

function parseName(raw: string): ProxyName {
  if (raw.length > NAME_TOTAL_MAX) throw new ProxyError(400, "NAME_INVALID", `Repository names are at most ${NAME_TOTAL_MAX} characters.`);
  const parts = raw.split("/");
  if (parts.some((p) => !PATH_COMPONENT_RE.test(p))) throw new ProxyError(400, "NAME_INVALID", "Invalid repository name.");
  const [prefix, appSlug, upstream, ...repo] = parts;
  if (prefix !== "proxy" || !appSlug || !upstream || repo.length === 0) {
    throw new ProxyError(404, "NAME_UNKNOWN", "Pull images as <proxy-domain>/proxy/<app>/<upstream-registry>/<repository>.");
  }
  return { full: raw, appSlug, upstream, repository: repo.join("/") };
}

export function parseProxyPath(pathname: string): ProxyRoute {
  if (pathname === "/v2/" || pathname === "/v2") return { kind: "base" };
  if (pathname === "/v2/token") return { kind: "token" };
  if (pathname === "/v2/_catalog") return { kind: "catalog" };
  if (!pathname.startsWith("/v2/")) throw new ProxyError(404, "NAME_UNKNOWN", "Not a registry API path.");
  const rest = pathname.slice(4);
  const tags = /^(.+)\/tags\/list$/.exec(rest);
  if (tags?.[1]) return { kind: "tags", name: parseName(tags[1]) };
  const m = /^(.+)\/(manifests|blobs)\/([^/]+)$/.exec(rest);
  if (!m?.[1] || !m[2] || !m[3]) throw new ProxyError(404, "NAME_UNKNOWN", "Unknown registry API path.");
  const kind = m[2] as "manifests" | "blobs";
  const reference = m[3];
  const name = parseName(m[1]);
  // Decided here, as the OCI distribution spec says, whatever the upstream would answer:
  // a digest that is malformed is 400 DIGEST_INVALID; a manifest reference that is
  // neither a tag nor a digest names nothing, so 404 MANIFEST_UNKNOWN.
  if (reference.includes(":")) {
    const problem = digestProblem(reference);
    if (problem) throw new ProxyError(400, "DIGEST_INVALID", `Invalid digest "${reference.slice(0, 80)}": ${problem}.`);
  } else if (kind === "blobs") {
    throw new ProxyError(400, "DIGEST_INVALID", "Blobs are addressed by digest (algorithm:hex).");
  } else if (!TAG_RE.test(reference)) {
    throw new ProxyError(404, "MANIFEST_UNKNOWN", `"${reference.slice(0, 80)}" is not a valid tag, so no manifest has it.`);
  }
  return { kind, name, reference };
}
