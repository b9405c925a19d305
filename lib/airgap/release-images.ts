import "server-only";
import { db } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { env } from "@/lib/env";
import { parseAllowlist, schemeForHost } from "@/lib/net/ssrf";
import { upstreamClient } from "@/lib/proxy/upstream";
import { teamRegistryByPath } from "@/lib/registries/by-path";
import { defaultHttpOptions, RegistryClient } from "@/lib/registry-client/client";
import { apiHostFor, parseReference } from "@/lib/registry-client/reference";
import { sharedTokenCache } from "@/lib/registry-client/token-cache";
import type { ReleaseDetail } from "@/lib/releases/releases";
import { hostedContent } from "./hosted-source";
import { upstreamContent, type ImageContent } from "./sources";

/**
 * The images of a release as a bundle holds them: one per distinct image
 * (every spelling the manifests use kept, for the overlay), with where its
 * bytes come from: the team's registry through the proxy's cache (a private
 * image), Gantry's own registry, or the public registry it is on.
 */
export interface BundledImage {
  /** The image as the release writes it first (its normalized form names it). */
  source: string;
  /** domain/path[:tag][@digest], normalized. */
  normalized: string;
  /** Every spelling in the manifests, without tag or digest (what kustomize matches). */
  writtenNames: string[];
  /** The digest the release resolved the image to. */
  digest: string;
  kind: "private" | "vendor_registry" | "public";
  /** Written with its digest somewhere in the release: that digest must be what lands in the customer's registry. */
  byDigest: boolean;
  content: ImageContent;
}

/** What Gantry's image statuses say about bundling: what it can carry, and why not otherwise. */
const UNBUNDLABLE: Record<string, string> = {
  not_found: "was not found when the release was probed",
  rate_limited: "was rate-limited when the release was probed",
  unreachable: "was unreachable when the release was probed",
  invalid: "is not a valid image reference",
  already_proxied: "is written with a Gantry proxy name; write the upstream name in the release instead",
};

export async function releaseImages(teamId: string, app: { id: string; slug: string }, release: ReleaseDetail, options: { includePublic: boolean }): Promise<BundledImage[]> {
  const byName = new Map<string, BundledImage>();
  const problems: string[] = [];
  const config = env();
  const allow = parseAllowlist(config.allowedPrivateHosts);
  const http = defaultHttpOptions(config.allowedPrivateHosts);
  const anonymous = new Map<string, RegistryClient>();
  for (const image of release.images) {
    const why = UNBUNDLABLE[image.status];
    if (why) {
      problems.push(`${image.image} ${why}`);
      continue;
    }
    if (image.status === "public" && !image.upstreamRepository && !options.includePublic) continue;
    if (!image.normalized) continue;
    const ref = parseReference(image.image);
    const known = byName.get(image.normalized);
    if (known) {
      if (!known.writtenNames.includes(ref.writtenName)) known.writtenNames.push(ref.writtenName);
      known.byDigest ||= ref.digest !== undefined;
      continue;
    }
    let content: ImageContent;
    let kind: BundledImage["kind"];
    let digest = image.digest ?? ref.digest ?? null;
    if (image.status === "vendor_registry") {
      // "<app slug>/<repository>" on Gantry's registry: this app's repositories only.
      const [owner, ...rest] = ref.path.split("/");
      if (owner !== app.slug || rest.length === 0) {
        problems.push(`${image.image} is on Gantry's registry under another app`);
        continue;
      }
      const repository = rest.join("/");
      content = hostedContent(app.id, repository);
      kind = "vendor_registry";
      // Gantry's registry is not probed at release time: a tag is what it points at now.
      if (!digest && ref.tag) digest = (await db.registryTag.findUnique({ where: { appId_repository_tag: { appId: app.id, repository, tag: ref.tag } }, select: { digest: true } }))?.digest ?? null;
    } else if (image.upstreamRepository) {
      const cut = image.upstreamRepository.indexOf("/");
      const registry = await teamRegistryByPath(teamId, image.upstreamRepository.slice(0, cut));
      if (!registry) {
        problems.push(`${image.image}: its registry is no longer configured`);
        continue;
      }
      const repository = image.upstreamRepository.slice(cut + 1);
      content = upstreamContent(await upstreamClient(teamId, registry), repository, { teamId, appId: app.id, registryId: registry.id, repository }, registry.id);
      kind = "private";
    } else {
      // A public image: anonymous, through the SSRF guard (plain http only to hosts the operator allowed).
      const host = apiHostFor(ref.domain);
      let client = anonymous.get(host);
      if (!client) {
        client = new RegistryClient({ endpoint: `${schemeForHost(host, allow)}://${host}`, http, tokenCache: sharedTokenCache });
        anonymous.set(host, client);
      }
      content = upstreamContent(client, ref.path, null, undefined);
      kind = "public";
    }
    if (!digest) {
      problems.push(`${image.image} has no digest: ${kind === "vendor_registry" ? "the tag is not on Gantry's registry" : "re-probe the release"}`);
      continue;
    }
    byName.set(image.normalized, { source: image.image, normalized: image.normalized, writtenNames: [ref.writtenName], digest, kind, content, byDigest: ref.digest !== undefined });
  }
  if (problems.length) {
    throw new AppError("CONFLICT", `This release cannot be bundled: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ""}. Re-probe the release once the images are reachable.`);
  }
  return [...byName.values()];
}
