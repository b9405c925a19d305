import { z } from "zod";
import { apiRoute } from "@/lib/http/api-route";
import { getApp } from "@/lib/apps/apps";
import { createdCustomerBody, customerListItem } from "@/lib/licenses/api";
import { createCustomer, createCustomerSchema, listCustomers, listCustomersSchema } from "@/lib/licenses/customers";

const params = z.object({ slug: z.string().min(1).max(64) });

// GET /api/v1/apps/{slug}/customers?q=&state=&pageSize=&before= — customers with their license's id, fingerprint and state (never the
// license ID), newest first; `before` is the previous page's opaque `nextCursor` (a malformed one is 422)
export const GET = apiRoute({ permission: "app:view", params }, async (ctx, { params, request }) => {
  const app = await getApp(ctx.team.id, params.slug);
  const query = listCustomersSchema.parse(Object.fromEntries(request.nextUrl.searchParams));
  const page = await listCustomers(ctx.team.id, { ...query, appId: app.id });
  return {
    body: {
      customers: page.customers.map(customerListItem),
      nextCursor: page.nextCursor,
    },
  };
});

// POST /api/v1/apps/{slug}/customers — {name, email?, type?, expiresAt?} → 201 {id, name, license: {id, fingerprint, licenseId, state, expiresAt}}
export const POST = apiRoute({ permission: "customer:manage", params, body: createCustomerSchema }, async (ctx, { params, body }) => {
  const c = await createCustomer(ctx, params.slug, body);
  return { status: 201, body: createdCustomerBody(c) };
});
