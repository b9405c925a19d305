import { apiRoute } from "@/lib/http/api-route";
import { releaseParams } from "@/lib/releases/schema";
import { unarchiveRelease } from "@/lib/releases/releases";

// POST /api/v1/apps/{slug}/releases/{version}/unarchive — {release} (not archived: unchanged)
export const POST = apiRoute({ permission: "app:manage", params: releaseParams }, async (ctx, { params }) => {
  return { body: { release: await unarchiveRelease(ctx, params.slug, params.version) } };
});
