import "server-only";
import { z } from "zod";
import { db } from "@/lib/db";
import { AppError, notFound } from "@/lib/errors";
import { parseLicenseAddress } from "./address";
import { getCustomer, type createCustomer, type listCustomers } from "./customers";

/** Route params for /api/v1/licenses/{license}/…: the license's row id or fingerprint. */
export const licenseParams = z.object({ license: z.string().min(1).max(200) });

/**
 * A team's license by row id or fingerprint. A license ID is refused (400) before
 * any lookup; another team's license is NOT_FOUND; a fingerprint shared by two of
 * the team's licenses (8 hex digits are not unique) is a CONFLICT naming the way out.
 */
export async function findLicense(teamId: string, value: string) {
  const address = parseLicenseAddress(value);
  const select = { id: true, customerId: true } as const;
  if (address.kind === "id") {
    const l = await db.license.findFirst({ where: { id: address.id, teamId }, select });
    if (!l) throw notFound("License");
    return l;
  }
  const matches = await db.license.findMany({ where: { fingerprint: address.fingerprint, teamId }, select, take: 2 });
  if (matches.length > 1) {
    throw new AppError("CONFLICT", `More than one of this team's licenses has the fingerprint ${address.fingerprint}. Address it by its id.`);
  }
  if (!matches[0]) throw notFound("License");
  return matches[0];
}

/** The API's view of a license: addressed by its row id and fingerprint, never carrying the license ID. */
export async function licenseBody(teamId: string, customerId: string) {
  const c = await getCustomer(teamId, customerId);
  return {
    id: c.license.id,
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

type ListedCustomer = Awaited<ReturnType<typeof listCustomers>>["customers"][number];

/** A customer in the API's list: the license by row id and fingerprint (no license ID). */
export function customerListItem(c: ListedCustomer) {
  return {
    id: c.id,
    name: c.name,
    email: c.email,
    type: c.type,
    createdAt: c.createdAt,
    license: c.license && { id: c.license.id, fingerprint: c.license.fingerprint, state: c.license.state, expiresAt: c.license.expiresAt, revokedAt: c.license.revokedAt },
  };
}

/**
 * The API's answer to creating a customer: the license's row id and fingerprint
 * for later calls, and, once, the license ID itself (in the body, never a URL)
 * for the vendor to hand over. Only owners and admins can create customers.
 */
export function createdCustomerBody(c: Awaited<ReturnType<typeof createCustomer>>) {
  return {
    id: c.id,
    name: c.name,
    email: c.email,
    type: c.type,
    license: { id: c.license.id, fingerprint: c.license.fingerprint, licenseId: c.license.licenseId, state: c.license.state, expiresAt: c.license.expiresAt },
  };
}
