import "server-only";
import { appDomains } from "@/lib/domains/app-domains";
import { z } from "zod";
import { db } from "@/lib/db";
import { afterCursor, cursorSchema, keysetPage } from "@/lib/pagination/keyset";
import { serializable } from "@/lib/transactions";
import { AppError, notFound } from "@/lib/errors";
import { recordActivity } from "@/lib/activity/record";
import { getApp } from "@/lib/apps/apps";
import { loadSecret, storeSecret } from "@/lib/secrets/store";
import type { TeamContext } from "@/lib/teams/access";
import { generateLicenseId, hashLicenseId, isLicenseIdFormat, licenseFingerprint } from "./key";
import { licenseToYaml, signLicense } from "./license-file";
import { teamPrivateSigningKey, teamSigningKey } from "./signing-key";
import { forgetLicenseDecisions } from "./pull-decision";
import { daysLeft, licenseState, stateWhere } from "./state";
import { LICENSE_STATES, LICENSE_TYPES } from "./types";

export const LICENSE_ID_PURPOSE = "license.id";

/** Accepts "2026-12-31", a full ISO timestamp, a Date, or empty for "no expiry". */
const expirySchema = z
  .union([z.date(), z.string().trim()])
  .optional()
  .nullable()
  .transform((v, c) => {
    if (v === undefined) return undefined;
    if (v === null || v === "") return null;
    const d = v instanceof Date ? v : new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T23:59:59.999Z` : v);
    if (Number.isNaN(d.getTime())) {
      c.addIssue({ code: "custom", message: "Enter a date (YYYY-MM-DD) or an ISO timestamp." });
      return z.NEVER;
    }
    return d;
  });

export const createCustomerSchema = z.object({
  name: z.string().trim().min(1, "Enter the customer's name.").max(120, "At most 120 characters."),
  email: z
    .string()
    .trim()
    .toLowerCase()
    .max(320)
    .optional()
    .transform((v) => v || undefined)
    .pipe(z.email("Enter a valid email address.").optional()),
  type: z.enum(LICENSE_TYPES, { message: "Choose trial, paid, community or dev." }).default("paid"),
  expiresAt: expirySchema,
});

export const expirySchemaObject = z.object({ expiresAt: expirySchema });
export const revokeSchema = z.object({ reason: z.string().trim().max(500, "At most 500 characters.").optional() });

export const listCustomersSchema = z.object({
  q: z.string().trim().max(100).optional(),
  state: z.enum(LICENSE_STATES).optional(),
  /** The `nextCursor` of the previous page (opaque; a malformed one is a validation error). */
  before: cursorSchema.optional(),
  pageSize: z.coerce.number().int().min(1).max(200).optional(),
});

const LICENSE_FIELDS = {
  id: true,
  fingerprint: true,
  expiresAt: true,
  revokedAt: true,
  revokedByLabel: true,
  revokeReason: true,
  maxVersion: true,
  releasedBefore: true,
  createdAt: true,
  updatedAt: true,
} as const;

/** What lists and the customer page read: the customer, its app and its license (no secrets). */
const CUSTOMER_FIELDS = {
  id: true,
  name: true,
  email: true,
  type: true,
  createdAt: true,
  app: { select: { id: true, slug: true, name: true } },
  license: { select: LICENSE_FIELDS },
} as const;

type LicenseRow = {
  id: string;
  fingerprint: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  revokedByLabel: string | null;
  revokeReason: string | null;
  maxVersion: string | null;
  releasedBefore: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

export function presentLicense(l: LicenseRow, now = new Date()) {
  return { ...l, state: licenseState(l, now), daysLeft: daysLeft(l.expiresAt, now) };
}

export async function createCustomer(ctx: TeamContext, appSlug: string, input: z.input<typeof createCustomerSchema>) {
  const app = await getApp(ctx.team.id, appSlug);
  const data = createCustomerSchema.parse(input);
  const licenseId = generateLicenseId();
  // Serializable, and the app re-read inside: a slug change that commits first
  // makes this NOT_FOUND, one that races it is aborted and retried (updateApp
  // counts licenses in its own serializable transaction). Never both.
  const result = await serializable(async (tx) => {
    if (!(await tx.app.findFirst({ where: { id: app.id, teamId: ctx.team.id, slug: app.slug }, select: { id: true } }))) throw notFound("App");
    const customer = await tx.customer.create({
      data: {
        teamId: ctx.team.id,
        appId: app.id,
        name: data.name,
        email: data.email ?? null,
        type: data.type,
        searchText: `${data.name} ${data.email ?? ""}`.toLowerCase(),
      },
      select: { id: true, name: true, email: true, type: true, createdAt: true },
    });
    const license = await tx.license.create({
      data: {
        teamId: ctx.team.id,
        appId: app.id,
        customerId: customer.id,
        keyHash: hashLicenseId(licenseId),
        fingerprint: licenseFingerprint(licenseId),
        expiresAt: data.expiresAt ?? null,
      },
      select: LICENSE_FIELDS,
    });
    await storeSecret(tx, { teamId: ctx.team.id, resourceId: license.id, purpose: LICENSE_ID_PURPOSE }, licenseId);
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "customer.created",
      resourceType: "customer",
      resourceId: customer.id,
      metadata: { app: app.slug, name: customer.name, type: customer.type, license: license.fingerprint },
      ip: ctx.ip,
    });
    return { customer, license };
  });
  return { ...result.customer, app: { slug: app.slug, name: app.name }, license: { ...presentLicense(result.license), licenseId } };
}

/**
 * Customers of a team (optionally one app), newest first, keyset-paginated on
 * (createdAt, id), searchable by name or email and filterable by license state.
 * Indexed on (appId|teamId, createdAt, id) so deep pages stay as fast as the first.
 */
export async function listCustomers(teamId: string, options: z.input<typeof listCustomersSchema> & { appId?: string } = {}, now = new Date()) {
  const { q, state, before, pageSize } = listCustomersSchema.parse(options);
  const take = pageSize ?? 50;
  const rows = await db.customer.findMany({
    where: {
      teamId,
      ...(options.appId ? { appId: options.appId } : {}),
      ...(q ? { searchText: { contains: q.toLowerCase() } } : {}),
      ...(state ? { license: stateWhere(state, now) } : {}),
      ...afterCursor(before),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: take + 1,
    select: CUSTOMER_FIELDS,
  });
  const { page, nextCursor } = keysetPage(rows, take);
  return {
    customers: page.map((c) => ({ ...c, license: c.license ? presentLicense(c.license, now) : null })),
    nextCursor,
  };
}

export async function getCustomer(teamId: string, customerId: string) {
  const c = await db.customer.findFirst({
    where: { id: customerId, teamId },
    select: CUSTOMER_FIELDS,
  });
  if (!c || !c.license) throw notFound("Customer");
  return { ...c, license: presentLicense(c.license) };
}

/** The full license ID (owners and admins only: callers check "license:view-secret"). */
export async function revealLicenseId(teamId: string, licenseRowId: string): Promise<string> {
  return loadSecret({ teamId, resourceId: licenseRowId, purpose: LICENSE_ID_PURPOSE });
}

/** Finds a team's license by its license ID (as the API addresses it). Another team's is NOT_FOUND. */
export async function findLicenseByKey(teamId: string, licenseId: string) {
  if (!isLicenseIdFormat(licenseId)) throw notFound("License");
  const l = await db.license.findFirst({ where: { keyHash: hashLicenseId(licenseId), teamId }, select: { id: true, customerId: true } });
  if (!l) throw notFound("License");
  return l;
}

async function loadLicense(teamId: string, licenseRowId: string) {
  const l = await db.license.findFirst({
    where: { id: licenseRowId, teamId },
    select: { ...LICENSE_FIELDS, customer: { select: { id: true, name: true } }, app: { select: { slug: true } } },
  });
  if (!l) throw notFound("License");
  return l;
}

type LoadedLicense = Awaited<ReturnType<typeof loadLicense>>;

/**
 * Moves a license from the state that was read (`expected`) to `data`, with
 * one conditional update: when two requests race, the second finds the row no
 * longer in the expected state, changes nothing, logs nothing and gets 409.
 */
async function changeLicense(
  ctx: TeamContext,
  current: LoadedLicense,
  change: {
    action: "license.revoked" | "license.restored" | "license.expiry_changed";
    expected: { revokedAt?: null | { not: null }; expiresAt?: Date | null };
    conflict: string;
    data: { revokedAt?: Date | null; revokedById?: string | null; revokedByLabel?: string | null; revokeReason?: string | null; expiresAt?: Date | null };
    metadata: Record<string, string | null>;
  },
) {
  const changed = await db.$transaction(async (tx) => {
    const { count } = await tx.license.updateMany({ where: { id: current.id, teamId: ctx.team.id, ...change.expected }, data: change.data });
    if (count !== 1) throw new AppError("CONFLICT", change.conflict);
    const updated = await tx.license.findUniqueOrThrow({ where: { id: current.id }, select: LICENSE_FIELDS });
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: change.action,
      resourceType: "license",
      resourceId: current.id,
      metadata: { customer: current.customer.name, app: current.app.slug, license: current.fingerprint, ...change.metadata },
      ip: ctx.ip,
    });
    return { ...presentLicense(updated), customer: current.customer, app: current.app };
  });
  forgetLicenseDecisions(); // this process's proxy sees it at once; others within 500 ms
  return changed;
}

const ALREADY_REVOKED = "This license is already revoked.";
const NOT_REVOKED = "This license is not revoked.";

/** Revokes at once: the proxy's next request with this license is denied. */
export async function revokeLicense(ctx: TeamContext, licenseRowId: string, reason?: string) {
  const current = await loadLicense(ctx.team.id, licenseRowId);
  if (current.revokedAt) throw new AppError("CONFLICT", ALREADY_REVOKED);
  return changeLicense(ctx, current, {
    action: "license.revoked",
    expected: { revokedAt: null },
    conflict: ALREADY_REVOKED,
    data: { revokedAt: new Date(), revokedById: ctx.actor.id ?? null, revokedByLabel: ctx.actor.label, revokeReason: reason || null },
    metadata: { reason: reason || null },
  });
}

export async function restoreLicense(ctx: TeamContext, licenseRowId: string) {
  const current = await loadLicense(ctx.team.id, licenseRowId);
  if (!current.revokedAt) throw new AppError("CONFLICT", NOT_REVOKED);
  return changeLicense(ctx, current, {
    action: "license.restored",
    expected: { revokedAt: { not: null } },
    conflict: NOT_REVOKED,
    data: { revokedAt: null, revokedById: null, revokedByLabel: null, revokeReason: null },
    metadata: {},
  });
}

/** Sets or clears the expiry; takes effect on the next pull. 409 if someone else changed it meanwhile (the log's "from" stays true). */
export async function setLicenseExpiry(ctx: TeamContext, licenseRowId: string, expiresAt: Date | null) {
  const current = await loadLicense(ctx.team.id, licenseRowId);
  return changeLicense(ctx, current, {
    action: "license.expiry_changed",
    expected: { expiresAt: current.expiresAt },
    conflict: "The expiry was changed meanwhile. Reload the page and try again.",
    data: { expiresAt },
    metadata: { from: current.expiresAt?.toISOString() ?? "never", to: expiresAt?.toISOString() ?? "never" },
  });
}

/** The signed license file (YAML) for a license. */
export async function licenseFile(teamId: string, licenseRowId: string): Promise<{ filename: string; yaml: string }> {
  const l = await db.license.findFirst({
    where: { id: licenseRowId, teamId },
    select: { id: true, expiresAt: true, customer: { select: { name: true, type: true } }, app: { select: { id: true, slug: true } } },
  });
  if (!l) throw notFound("License");
  const [licenseId, key, privateKey, domains] = await Promise.all([revealLicenseId(teamId, l.id), teamSigningKey(teamId), teamPrivateSigningKey(teamId), appDomains(teamId, l.app.id)]);
  // The app's domains (custom ones when picked and verified), as everything else a customer gets.
  const proxyDomain = domains.proxy.host;
  const registryDomain = domains.registry?.host;
  const doc = signLicense(
    {
      licenseId,
      appSlug: l.app.slug,
      customerName: l.customer.name,
      licenseType: l.customer.type,
      expiresAt: l.expiresAt?.toISOString() ?? null,
      proxyDomain,
      registryDomain: registryDomain ?? null,
      issuedAt: new Date().toISOString(),
    },
    privateKey,
    key.publicKey,
  );
  const safeName = l.customer.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "customer";
  return { filename: `${l.app.slug}-${safeName}-license.yaml`, yaml: licenseToYaml(doc, domains.proxy) };
}
