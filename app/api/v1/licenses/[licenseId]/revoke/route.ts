import { apiRoute } from "@/lib/http/api-route";
import { licenseBody, licenseParams } from "@/lib/licenses/api";
import { findLicenseByKey, revokeLicense, revokeSchema } from "@/lib/licenses/customers";

// POST /api/v1/licenses/{licenseId}/revoke — {reason?} → the license, now revoked; the proxy denies its next request
export const POST = apiRoute({ permission: "license:revoke", params: licenseParams, body: revokeSchema }, async (ctx, { params, body }) => {
  const l = await findLicenseByKey(ctx.team.id, params.licenseId);
  await revokeLicense(ctx, l.id, body.reason);
  return { body: { license: await licenseBody(ctx.team.id, params.licenseId, l.customerId) } };
});
