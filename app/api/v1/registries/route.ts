import { apiRoute } from "@/lib/http/api-route";
import { createRegistry, listRegistries } from "@/lib/registries/registries";
import { createRegistrySchema } from "@/lib/registries/schema";

// GET /api/v1/registries — the team's registries, without secrets
export const GET = apiRoute({ permission: "registry:view" }, async (ctx) => ({
  body: { registries: await listRegistries(ctx.team.id) },
}));

// POST /api/v1/registries — add a registry {name, endpoint, kind?, pathName?, …the kind's fields} (docs/registry.md: basic username+password; ecr region?, accessKeyId, secretAccessKey, roleArn?, externalId?; gar serviceAccountKey; acr tenantId, clientId, clientSecret; ambient?)
export const POST = apiRoute({ permission: "registry:manage", body: createRegistrySchema }, async (ctx, { body }) => ({
  status: 201,
  body: { registry: await createRegistry(ctx, body) },
}));
