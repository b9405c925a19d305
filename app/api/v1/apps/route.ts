import { apiRoute } from "@/lib/http/api-route";
import { createApp, createAppSchema, listApps } from "@/lib/apps/apps";

// GET /api/v1/apps — the team's apps
export const GET = apiRoute({ permission: "app:view" }, async (ctx) => ({
  body: { apps: (await listApps(ctx.team.id)).map(({ id, name, slug, additionalNamespaces, customerCount }) => ({ id, name, slug, additionalNamespaces, customerCount })) },
}));

// POST /api/v1/apps — create an app {name, slug} → 201 {id, name, slug}; 409 when the slug is taken
export const POST = apiRoute({ permission: "app:manage", body: createAppSchema }, async (ctx, { body }) => {
  const app = await createApp(ctx, body);
  return { status: 201, body: { id: app.id, name: app.name, slug: app.slug } };
});
