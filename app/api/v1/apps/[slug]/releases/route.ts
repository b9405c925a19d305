import { z } from "zod";
import { apiRoute } from "@/lib/http/api-route";
import { createRelease, createReleaseSchema, listReleases } from "@/lib/releases/releases";

const params = z.object({ slug: z.string().min(1).max(64) });

// GET /api/v1/apps/{slug}/releases?archived=true — releases, highest version first (archived ones only with archived=true)
export const GET = apiRoute({ permission: "app:view", params }, async (ctx, { params, request }) => {
  const includeArchived = request.nextUrl.searchParams.get("archived") === "true";
  return { body: { releases: await listReleases(ctx.team.id, params.slug, { includeArchived }) } };
});

// POST /api/v1/apps/{slug}/releases — {version, notes?, manifests?, files?, images?, charts?} → 201 {release} with the probed image table
export const POST = apiRoute({ permission: "app:manage", params, body: createReleaseSchema }, async (ctx, { params, body, request }) => {
  const release = await createRelease(ctx, params.slug, body, { signal: request.signal });
  return { status: 201, body: { release } };
});
