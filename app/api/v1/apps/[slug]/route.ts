import { z } from "zod";
import { apiRoute } from "@/lib/http/api-route";
import { extraPatternsSchema, setExtraPatterns } from "@/lib/releases/scope";

const params = z.object({ slug: z.string().min(1).max(64) });

// PATCH /api/v1/apps/{slug} — {extraPatterns: string[]} → {app: {slug, extraPatterns}}: the repositories
// ("<registry path name>/<repository pattern>", `*` within a segment, `**` across) the app's licenses may pull
// besides its releases' images. 422 with fields.patterns for an invalid pattern.
export const PATCH = apiRoute({ permission: "app:manage", params, body: extraPatternsSchema }, async (ctx, { params, body }) => {
  const extraPatterns = await setExtraPatterns(ctx, params.slug, body.extraPatterns);
  return { body: { app: { slug: params.slug, extraPatterns } } };
});
