import { z } from "zod";
import { apiRoute } from "@/lib/http/api-route";
import { testConnectionSchema } from "@/lib/registries/schema";
import { testConnection } from "@/lib/registries/test-connection";

// POST /api/v1/registries/{id}/test — ping the registry with its credentials {image?} → {ok, outcome, message, manifest?}
export const POST = apiRoute(
  { permission: "registry:manage", params: z.object({ id: z.string().min(1).max(100) }), body: testConnectionSchema },
  async (ctx, { params, body }) => ({ body: await testConnection(ctx, params.id, body.image) }),
);
