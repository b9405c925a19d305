import { apiRoute } from "@/lib/http/api-route";
import { findLicense, licenseBody, licenseParams } from "@/lib/licenses/api";
import { restoreLicense } from "@/lib/licenses/customers";

// POST /api/v1/licenses/{id|fingerprint}/restore — → the license, no longer revoked
export const POST = apiRoute({ permission: "license:revoke", params: licenseParams }, async (ctx, { params }) => {
  const l = await findLicense(ctx.team.id, params.license);
  await restoreLicense(ctx, l.id);
  return { body: { license: await licenseBody(ctx.team.id, l.customerId) } };
});
