import { apiRoute } from "@/lib/http/api-route";
import { findLicense, licenseParams } from "@/lib/licenses/api";
import { listLicensePulls } from "@/lib/licenses/pulls";

// GET /api/v1/licenses/{id|fingerprint}/pulls — the license's registry-proxy requests, newest first
export const GET = apiRoute({ permission: "app:view", params: licenseParams }, async (ctx, { params, request }) => {
  const l = await findLicense(ctx.team.id, params.license);
  const limit = Number(request.nextUrl.searchParams.get("limit") ?? "50");
  return { body: { pulls: await listLicensePulls(ctx.team.id, l.id, Number.isFinite(limit) && limit > 0 ? limit : 50) } };
});
