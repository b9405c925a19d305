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
const TAG_RE = /^[\w][\w.-]{0,127}$/;

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
  const okRef = kind === "blobs" ? DIGEST_RE.test(reference) : DIGEST_RE.test(reference) || TAG_RE.test(reference);
  if (!okRef) throw new ProxyError(400, kind === "blobs" ? "BLOB_UNKNOWN" : "MANIFEST_UNKNOWN", `Invalid ${kind === "blobs" ? "digest" : "tag or digest"}.`);
  return { kind, name: parseName(m[1]), reference };
}
