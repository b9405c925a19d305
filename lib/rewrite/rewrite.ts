import type { ImageReference } from "@/lib/registry-client/reference";

/**
 * A private image's proxied reference:
 *   <proxy-domain>/proxy/<app-slug>/<upstream>/<repository>[:tag][@digest]
 * with the tag and digest exactly as written (no tag stays no tag). <upstream>
 * is the team registry's path name (host_port for registries with a port:
 * real clients reject a colon inside a repository path).
 */
export function proxiedReference(ref: ImageReference, target: { proxyDomain: string; appSlug: string; pathName: string }): string {
  return `${proxiedName(ref, target)}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** The proxied repository name without tag or digest (kustomize's newName). */
export function proxiedName(ref: ImageReference, target: { proxyDomain: string; appSlug: string; pathName: string }): string {
  return `${target.proxyDomain}/proxy/${target.appSlug}/${target.pathName}/${ref.path}`;
}
