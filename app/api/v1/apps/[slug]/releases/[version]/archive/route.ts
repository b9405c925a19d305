import { apiRoute } from "@/lib/http/api-route";
import { releaseParams } from "@/lib/releases/schema";
import { archiveRelease } from "@/lib/releases/releases";

// POST /api/v1/apps/{slug}/releases/{version}/archive — {release}; its images leave what licenses can pull (already archived: unchanged)
export const POST = apiRoute({ permission: "app:manage", params: releaseParams }, async (ctx, { params }) => {
  return { body: { release: await archiveRelease(ctx, params.slug, params.version) } };
});
