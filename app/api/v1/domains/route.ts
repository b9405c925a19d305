import { addDomain, addDomainSchema, listDomains } from "@/lib/domains/domains";
import { apiRoute } from "@/lib/http/api-route";

// GET /api/v1/domains — the team's custom domains, each with its TXT record, target and status
export const GET = apiRoute({ permission: "domain:view" }, async (ctx) => ({ body: { domains: await listDomains(ctx.team.id) } }));

// POST /api/v1/domains — {name, service: "proxy" | "registry"} → 201 {domain} (status "pending"); 409 when another team holds the name, 422 for a name that is not one or is Gantry's own
export const POST = apiRoute({ permission: "domain:manage", body: addDomainSchema }, async (ctx, { body }) => ({
  status: 201,
  body: { domain: await addDomain(ctx, body) },
}));
