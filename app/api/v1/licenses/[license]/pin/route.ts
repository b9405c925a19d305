import { apiRoute } from "@/lib/http/api-route";
import { findLicense, licenseParams } from "@/lib/licenses/api";
import { pinSchema, setLicensePin } from "@/lib/releases/scope";

// PUT /api/v1/licenses/{id|fingerprint}/pin — {maxVersion?: string|null, releasedBefore?: ISO date-time|null}
// → {pin: {maxVersion, releasedBefore}}: the license reaches only releases up to that version (semver-first)
// and created before that instant. An omitted field is unchanged; null removes the limit.
export const PUT = apiRoute({ permission: "customer:manage", params: licenseParams, body: pinSchema }, async (ctx, { params, body }) => {
  const l = await findLicense(ctx.team.id, params.license);
  const pin = await setLicensePin(ctx, l.id, {
    maxVersion: body.maxVersion,
    releasedBefore: body.releasedBefore === undefined ? undefined : body.releasedBefore === null ? null : new Date(body.releasedBefore),
  });
  return { body: { pin: { maxVersion: pin.maxVersion, releasedBefore: pin.releasedBefore?.toISOString() ?? null } } };
});
