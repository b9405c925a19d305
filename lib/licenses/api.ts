import "server-only";
import { z } from "zod";
import { getCustomer } from "./customers";

/** Route params for /api/v1/licenses/{licenseId}/… */
export const licenseParams = z.object({ licenseId: z.string().min(1).max(200) });

/** The API's view of a license, addressed by its license ID. */
export async function licenseBody(teamId: string, licenseId: string, customerId: string) {
  const c = await getCustomer(teamId, customerId);
  return {
    id: licenseId,
    fingerprint: c.license.fingerprint,
    state: c.license.state,
    expiresAt: c.license.expiresAt,
    revokedAt: c.license.revokedAt,
    revokedBy: c.license.revokedByLabel,
    revokeReason: c.license.revokeReason,
    customer: { id: c.id, name: c.name, type: c.type },
    app: { slug: c.app.slug },
  };
}
