import { apiRoute } from "@/lib/http/api-route";
import { releaseParams } from "@/lib/releases/schema";
import { getRelease } from "@/lib/releases/releases";

// GET /api/v1/apps/{slug}/releases/{version} — {release}: image table, manifests, image list, installer files (placeholder license)
export const GET = apiRoute({ permission: "app:view", params: releaseParams }, async (ctx, { params }) => {
  return { body: { release: await getRelease(ctx.team.id, params.slug, params.version) } };
});
