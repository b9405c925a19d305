import { apiRoute } from "@/lib/http/api-route";
import { licenseBody, licenseParams } from "@/lib/licenses/api";
import { findLicenseByKey, restoreLicense } from "@/lib/licenses/customers";

// POST /api/v1/licenses/{licenseId}/restore — → the license, no longer revoked
export const POST = apiRoute({ permission: "license:revoke", params: licenseParams }, async (ctx, { params }) => {
  const l = await findLicenseByKey(ctx.team.id, params.licenseId);
  await restoreLicense(ctx, l.id);
  return { body: { license: await licenseBody(ctx.team.id, params.licenseId, l.customerId) } };
});
