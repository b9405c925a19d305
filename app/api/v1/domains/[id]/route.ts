import { z } from "zod";
import { deleteDomain, getDomain, setDefaultDomain } from "@/lib/domains/domains";
import { apiRoute } from "@/lib/http/api-route";

const params = z.object({ id: z.string().min(1).max(100) });

// GET /api/v1/domains/{id} — one domain (another team's is 404)
export const GET = apiRoute({ permission: "domain:view", params }, async (ctx, { params }) => ({ body: { domain: await getDomain(ctx.team.id, params.id) } }));

// PATCH /api/v1/domains/{id} — {default: boolean}: the team's default domain for its face (verified domains only; 422 otherwise)
export const PATCH = apiRoute({ permission: "domain:manage", params, body: z.object({ default: z.boolean() }) }, async (ctx, { params, body }) => ({
  body: { domain: await setDefaultDomain(ctx, params.id, body.default) },
}));

// DELETE /api/v1/domains/{id} — stops serving the name; apps that picked it fall back to the team default (or Gantry's own URL)
export const DELETE = apiRoute({ permission: "domain:manage", params }, async (ctx, { params }) => {
  await deleteDomain(ctx, params.id);
  return { status: 204, body: null };
});
