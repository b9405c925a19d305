import { ProxyError } from "@/lib/proxy/errors";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { digestInPin, hostedTagKey, type DigestSource } from "@/lib/releases/pinned-digests";
import { releaseScope, scopeRefusal, type ScopeAnswer } from "@/lib/releases/scope";
import type { Rights } from "./access";
import type { HostedName, HostedRoute } from "./paths";
import { MANIFEST_MAX_BYTES, tagDigests } from "./records";
import type { Ctx } from "./request";
import { callStorage, pullAccess, storageName } from "./storage";

/**
 * The release scope on Gantry's own registry, as at the proxy: a license
 * reaches "<registry path name>/<app>/<image>" when a release within its pin
 * lists it (or an extra pattern matches); a pinned license only the tags those
 * releases name and, by digest, what those tags were (RegistryTag, or when a
 * release was probed) or a platform manifest of such an index. Blobs and
 * referrers stay repository-scoped. Returns the tags a tag list may show
 * (null: all).
 */
export async function checkReleaseScope(ctx: Ctx, rights: Extract<Rights, { kind: "license" }>, route: Extract<HostedRoute, { name: HostedName }>): Promise<ReadonlySet<string> | null> {
  const { name } = route;
  const pathName = ctx.config.registryPathName();
  const answer: ScopeAnswer = pathName === null ? { kind: "outside" } : await releaseScope({ appId: rights.app.id, upstreamRepository: `${pathName}/${name.full}`, license: rights.decision.pin });
  const refuse = (what: string) => new ProxyError(403, "DENIED", scopeRefusal(answer, what, rights.app.name));
  if (answer.kind === "outside" || answer.kind === "beyond-pin") throw refuse(name.full);
  if (answer.kind === "repository") return null;
  if (route.kind === "manifests") {
    if (!route.byDigest && !answer.tags.has(route.reference)) throw refuse(`${name.full}:${route.reference}`);
    if (route.byDigest && !(await digestInPin(answer, route.reference, digestSource(ctx, rights.app.id, name.repository)))) throw refuse(`${name.full}@${route.reference}`);
  }
  return answer.tags;
}

function digestSource(ctx: Ctx, appId: string, repository: string): DigestSource {
  return {
    key: hostedTagKey(appId, repository),
    currentDigests: (tags) => tagDigests(appId, repository, tags),
    manifest: async (digest) => {
      const store = storageName(appId, repository);
      const upstream = await callStorage(ctx.config.backend, { method: "GET", path: `/v2/${store}/manifests/${digest}`, access: pullAccess(store), headers: { accept: MANIFEST_ACCEPT }, signal: ctx.signal });
      if (upstream.statusCode !== 200) {
        await upstream.body.dump();
        return null;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > MANIFEST_MAX_BYTES) {
          upstream.body.destroy();
          return null;
        }
        chunks.push(chunk);
      }
      return Buffer.concat(chunks);
    },
  };
}
