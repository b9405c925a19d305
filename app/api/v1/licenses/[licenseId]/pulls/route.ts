import { apiRoute } from "@/lib/http/api-route";
import { licenseParams } from "@/lib/licenses/api";
import { findLicenseByKey } from "@/lib/licenses/customers";
import { listLicensePulls } from "@/lib/licenses/pulls";

// GET /api/v1/licenses/{licenseId}/pulls — the license's registry-proxy requests, newest first
export const GET = apiRoute({ permission: "app:view", params: licenseParams }, async (ctx, { params, request }) => {
  const l = await findLicenseByKey(ctx.team.id, params.licenseId);
  const limit = Number(request.nextUrl.searchParams.get("limit") ?? "50");
  return { body: { pulls: await listLicensePulls(ctx.team.id, l.id, Number.isFinite(limit) && limit > 0 ? limit : 50) } };
});
