import { z } from "zod";
import { apiRoute } from "@/lib/http/api-route";
import { previewSchema, runPreview } from "@/lib/rewrite/preview";

// POST /api/v1/apps/{slug}/preview — {manifests?, images?, licenseId?} → {images: [{image, normalized, status, reason, rewritten}], files, summary}
export const POST = apiRoute({ permission: "app:view", params: z.object({ slug: z.string().min(1).max(64) }), body: previewSchema }, async (ctx, { params, body, request }) => {
  const preview = await runPreview(ctx, params.slug, body, { signal: request.signal });
  return {
    body: {
      images: preview.images.map((i) => ({
        image: i.image,
        normalized: i.normalized,
        status: i.status,
        reason: i.reason,
        rewritten: i.rewritten,
        ...(i.warning ? { warning: i.warning } : {}),
        ...(i.httpStatus ? { httpStatus: i.httpStatus } : {}),
        ...(i.missingRegistry ? { missingRegistry: true } : {}),
        occurrences: i.occurrences,
      })),
      files: preview.files,
      summary: preview.summary,
    },
  };
});
