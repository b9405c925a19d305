import { apiRoute } from "@/lib/http/api-route";
import { releaseParams } from "@/lib/releases/schema";
import { reprobeRelease } from "@/lib/releases/releases";

// POST /api/v1/apps/{slug}/releases/{version}/reprobe — {release, changes: [{image, from: {status, digest}, to: {status, digest}}]}
export const POST = apiRoute({ permission: "app:manage", params: releaseParams }, async (ctx, { params, request }) => {
  return { body: await reprobeRelease(ctx, params.slug, params.version, { signal: request.signal }) };
});
