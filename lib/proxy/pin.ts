import { proxyCache } from "@/lib/cache/cache";
import { isCacheableDigest } from "@/lib/cache/layout";
import { tagDigests } from "@/lib/cache/links";
import { BODY_LIMITS, readBounded } from "@/lib/registry-client/http";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { digestInPin, proxyTagKey, type DigestSource } from "@/lib/releases/pinned-digests";
import { scopeRefusal, type PinnedScope, type ScopeAnswer } from "@/lib/releases/scope";
import { ProxyError } from "./errors";
import { ask, type Exchange } from "./exchange";
import { drop } from "./upstream-errors";
import { appName } from "./upstream";

/**
 * The release scope at the proxy, past the repository: a pinned license's
 * manifest by tag must be a tag its releases name, by digest what such a tag
 * resolved to (lib/releases/pinned-digests.ts). Blobs and unpinned licenses
 * are checked by repository only (handler.ts).
 */
export async function refuseOutOfScope(answer: ScopeAnswer, what: string, appId: string): Promise<never> {
  throw new ProxyError(403, "DENIED", scopeRefusal(answer, what, answer.kind === "outside" ? await appName(appId) : ""));
}

export async function checkPinnedManifest(x: Exchange, scope: PinnedScope, reference: string, appId: string): Promise<void> {
  const repository = `${x.name.upstream}/${x.name.repository}`;
  if (!reference.includes(":")) {
    if (!scope.tags.has(reference)) await refuseOutOfScope(scope, `${repository}:${reference}`, appId);
    return;
  }
  if (!(await digestInPin(scope, reference, digestSource(x)))) await refuseOutOfScope(scope, `${repository}@${reference}`, appId);
}

/** The tag records (CacheTag, written as tags are resolved, cache on or off) and the manifests of this upstream repository. */
function digestSource(x: Exchange): DigestSource {
  return {
    key: proxyTagKey(x.registryId, x.name.repository),
    currentDigests: (tags) => tagDigests(x.registryId, x.name.repository, tags),
    manifest: async (digest) => {
      const cache = proxyCache();
      if (cache && x.scope && isCacheableDigest(digest)) {
        const hit = await cache.manifest(x.scope, digest);
        if (hit) return hit.body;
      }
      const upstream = await ask(x, "GET", `v2/${x.name.repository}/manifests/${digest}`, { accept: MANIFEST_ACCEPT }, "buffered");
      if (upstream.statusCode !== 200) {
        drop(upstream);
        return null;
      }
      return readBounded(upstream, BODY_LIMITS.manifest, "a manifest", x.client.host);
    },
  };
}
