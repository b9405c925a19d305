import { NAME_TOTAL_MAX, PATH_COMPONENT_RE } from "@/lib/registry-client/reference";
import { ProxyError } from "@/lib/proxy/errors";
import { digestProblem, TAG_RE } from "@/lib/proxy/paths";

/**
 * Request paths of Gantry's own registry: /v2/<app-slug>/<repository…>/…
 * Every name component must match the distribution grammar, references are
 * checked as the OCI distribution spec says (a malformed digest is 400
 * DIGEST_INVALID, never passed on), before any lookup.
 */
export interface HostedName {
  /** "<slug>/<repository>", as the client wrote it. */
  full: string;
  appSlug: string;
  /** The image path under the app: "api", "tools/cli". */
  repository: string;
}

export type HostedRoute =
  | { kind: "base" }
  | { kind: "token" }
  | { kind: "catalog" }
  | { kind: "tags"; name: HostedName }
  | { kind: "manifests"; name: HostedName; reference: string; byDigest: boolean }
  | { kind: "blobs"; name: HostedName; digest: string }
  | { kind: "referrers"; name: HostedName; digest: string }
  | { kind: "upload-start"; name: HostedName }
  | { kind: "upload"; name: HostedName; id: string };

/** Upload IDs Gantry hands out: a UUID. */
const UPLOAD_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function parseName(raw: string): HostedName {
  // The storage name is "<app id>/<repository>": keep room for a 25-character id.
  if (raw.length > NAME_TOTAL_MAX - 30) throw new ProxyError(400, "NAME_INVALID", `Repository names are at most ${NAME_TOTAL_MAX - 30} characters.`);
  const parts = raw.split("/");
  if (parts.some((p) => !PATH_COMPONENT_RE.test(p))) throw new ProxyError(400, "NAME_INVALID", "Invalid repository name.");
  const [appSlug, ...repo] = parts;
  if (!appSlug || repo.length === 0) throw new ProxyError(404, "NAME_UNKNOWN", "Images are named <registry>/<app>/<image>: the app's slug, then the image.");
  return { full: raw, appSlug, repository: repo.join("/") };
}

function checkDigest(digest: string): string {
  const problem = digestProblem(digest);
  if (problem) throw new ProxyError(400, "DIGEST_INVALID", `Invalid digest "${digest.slice(0, 80)}": ${problem}.`);
  return digest;
}

export function parseHostedPath(pathname: string): HostedRoute {
  if (pathname === "/v2/" || pathname === "/v2") return { kind: "base" };
  if (pathname === "/v2/token") return { kind: "token" };
  if (pathname === "/v2/_catalog") return { kind: "catalog" };
  if (!pathname.startsWith("/v2/")) throw new ProxyError(404, "NAME_UNKNOWN", "Not a registry API path.");
  const rest = pathname.slice(4);
  const tags = /^(.+)\/tags\/list$/.exec(rest);
  if (tags?.[1]) return { kind: "tags", name: parseName(tags[1]) };
  const start = /^(.+)\/blobs\/uploads\/?$/.exec(rest);
  if (start?.[1]) return { kind: "upload-start", name: parseName(start[1]) };
  const upload = /^(.+)\/blobs\/uploads\/([^/]+)$/.exec(rest);
  if (upload?.[1] && upload[2]) {
    const name = parseName(upload[1]);
    if (!UPLOAD_ID_RE.test(upload[2])) throw new ProxyError(404, "BLOB_UPLOAD_UNKNOWN", "No such upload.");
    return { kind: "upload", name, id: upload[2] };
  }
  const m = /^(.+)\/(manifests|blobs|referrers)\/([^/]+)$/.exec(rest);
  if (!m?.[1] || !m[2] || !m[3]) throw new ProxyError(404, "NAME_UNKNOWN", "Unknown registry API path.");
  const name = parseName(m[1]);
  const reference = m[3];
  if (m[2] === "blobs") return { kind: "blobs", name, digest: checkDigest(reference) };
  if (m[2] === "referrers") return { kind: "referrers", name, digest: checkDigest(reference) };
  if (reference.includes(":")) return { kind: "manifests", name, reference: checkDigest(reference), byDigest: true };
  if (!TAG_RE.test(reference)) throw new ProxyError(404, "MANIFEST_UNKNOWN", `"${reference.slice(0, 80)}" is not a valid tag, so no manifest has it.`);
  return { kind: "manifests", name, reference, byDigest: false };
}
