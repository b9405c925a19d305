import { z } from "zod";
import { apiRoute } from "@/lib/http/api-route";
import { deleteRegistry, getRegistry, updateRegistry } from "@/lib/registries/registries";
import { updateRegistrySchema } from "@/lib/registries/schema";

const params = z.object({ id: z.string().min(1).max(100) });

// GET /api/v1/registries/{id} — one registry, without secrets
export const GET = apiRoute({ permission: "registry:view", params }, async (ctx, { params }) => ({
  body: { registry: await getRegistry(ctx.team.id, params.id) },
}));

// PATCH /api/v1/registries/{id} — change fields; an absent or empty secret keeps the stored one, unless the endpoint moves to another scheme, host or port or the kind changes (then 422 without it)
export const PATCH = apiRoute({ permission: "registry:manage", params, body: updateRegistrySchema }, async (ctx, { params, body }) => ({
  body: { registry: await updateRegistry(ctx, params.id, body) },
}));

// DELETE /api/v1/registries/{id} — delete a registry and its stored credentials
export const DELETE = apiRoute({ permission: "registry:manage", params }, async (ctx, { params }) => {
  await deleteRegistry(ctx, params.id);
  return { status: 204, body: null };
});
