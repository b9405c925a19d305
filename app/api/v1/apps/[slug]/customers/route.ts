import { z } from "zod";
import { apiRoute } from "@/lib/http/api-route";
import { getApp } from "@/lib/apps/apps";
import { createCustomer, createCustomerSchema, listCustomers, listCustomersSchema } from "@/lib/licenses/customers";

const params = z.object({ slug: z.string().min(1).max(64) });

// GET /api/v1/apps/{slug}/customers?q=&state=&before= — customers with their license state (fingerprints, not license IDs)
export const GET = apiRoute({ permission: "app:view", params }, async (ctx, { params, request }) => {
  const app = await getApp(ctx.team.id, params.slug);
  const query = listCustomersSchema.parse(Object.fromEntries(request.nextUrl.searchParams));
  const page = await listCustomers(ctx.team.id, { ...query, appId: app.id });
  return {
    body: {
      customers: page.customers.map((c) => ({
        id: c.id,
        name: c.name,
        email: c.email,
        type: c.type,
        createdAt: c.createdAt,
        license: c.license && { fingerprint: c.license.fingerprint, state: c.license.state, expiresAt: c.license.expiresAt, revokedAt: c.license.revokedAt },
      })),
      nextCursor: page.nextCursor,
    },
  };
});

// POST /api/v1/apps/{slug}/customers — {name, email?, type?, expiresAt?} → 201 {id, name, license: {id, state, expiresAt}}
export const POST = apiRoute({ permission: "customer:manage", params, body: createCustomerSchema }, async (ctx, { params, body }) => {
  const c = await createCustomer(ctx, params.slug, body);
  return {
    status: 201,
    body: { id: c.id, name: c.name, email: c.email, type: c.type, license: { id: c.license.licenseId, fingerprint: c.license.fingerprint, state: c.license.state, expiresAt: c.license.expiresAt } },
  };
});
