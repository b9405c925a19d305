import { z } from "zod";
import { verifyDomain } from "@/lib/domains/domains";
import { apiRoute } from "@/lib/http/api-route";

const params = z.object({ id: z.string().min(1).max(100) });

// POST /api/v1/domains/{id}/verify — looks up TXT _gantry-challenge.<name> now → {domain} with status pending | verified | failed, checkedAt and message
export const POST = apiRoute({ permission: "domain:manage", params }, async (ctx, { params }) => ({ body: { domain: await verifyDomain(ctx, params.id) } }));
