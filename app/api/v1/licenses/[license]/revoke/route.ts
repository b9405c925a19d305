import { apiRoute } from "@/lib/http/api-route";
import { findLicense, licenseBody, licenseParams } from "@/lib/licenses/api";
import { revokeLicense, revokeSchema } from "@/lib/licenses/customers";

// POST /api/v1/licenses/{id|fingerprint}/revoke — {reason?} → the license, now revoked; the proxy denies its next request
export const POST = apiRoute({ permission: "license:revoke", params: licenseParams, body: revokeSchema }, async (ctx, { params, body }) => {
  const l = await findLicense(ctx.team.id, params.license);
  await revokeLicense(ctx, l.id, body.reason);
  return { body: { license: await licenseBody(ctx.team.id, l.customerId) } };
});
