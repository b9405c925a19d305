import { ProxyError } from "@/lib/proxy/errors";
import type { Rights } from "./access";
import type { HostedName } from "./paths";
import { listReferrers } from "./records";
import { json, type Ctx } from "./request";

/** The OCI 1.1 referrers API, answered from the manifests Gantry recorded. */
export async function serveReferrers(ctx: Ctx, rights: Rights, name: HostedName, digest: string): Promise<void> {
  if (ctx.method !== "GET" && ctx.method !== "HEAD") throw new ProxyError(405, "UNSUPPORTED", "referrers takes GET.", { allow: "GET, HEAD" });
  const artifactType = ctx.url.searchParams.get("artifactType");
  const manifests = await listReferrers(rights.app.id, name.repository, digest, artifactType);
  const headers: Record<string, string> = { "content-type": "application/vnd.oci.image.index.v1+json" };
  if (artifactType !== null) headers["oci-filters-applied"] = "artifactType";
  json(ctx.res, 200, { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests }, headers, ctx.method === "HEAD");
}
