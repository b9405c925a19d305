import { variantSource } from "@/lib/charts/license-variants";
import { countDenial } from "@/lib/observe/metrics";
import { ProxyError } from "@/lib/proxy/errors";
import { digestInPin, hostedTagKey, type DigestSource } from "@/lib/releases/pinned-digests";
import { releaseScope, scopeRefusal, type ScopeAnswer } from "@/lib/releases/scope";
import type { Rights } from "./access";
import type { HostedName, HostedRoute } from "./paths";
import { tagDigests } from "./records";
import { readManifestBytes } from "./stored-blob";
import type { Ctx } from "./request";
import { storageName } from "./storage";

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
  const refuse = (what: string) => {
    countDenial("registry", answer.kind === "outside" ? "out_of_scope" : "beyond_pin");
    return new ProxyError(403, "DENIED", scopeRefusal(answer, what, rights.app.name));
  };
  if (answer.kind === "outside" || answer.kind === "beyond-pin") throw refuse(name.full);
  if (answer.kind === "repository") return null;
  if (route.kind === "manifests") {
    if (!route.byDigest && !answer.tags.has(route.reference)) throw refuse(`${name.full}:${route.reference}`);
    if (route.byDigest) {
      const source = digestSource(ctx, rights.app.id, name.repository);
      if (!(await digestInPin(answer, route.reference, source))) {
        // The license's own variant of a chart is in the pin when the vendor's chart it was built from is.
        const variant = await variantSource(rights.decision.licenseRowId, rights.app.id, name.repository, route.reference);
        if (!variant || !(await digestInPin(answer, variant.chartDigest, source))) throw refuse(`${name.full}@${route.reference}`);
      }
    }
  }
  return answer.tags;
}

function digestSource(ctx: Ctx, appId: string, repository: string): DigestSource {
  return {
    key: hostedTagKey(appId, repository),
    currentDigests: (tags) => tagDigests(appId, repository, tags),
    manifest: (digest) => readManifestBytes(ctx.config, storageName(appId, repository), digest, ctx.signal),
  };
}
