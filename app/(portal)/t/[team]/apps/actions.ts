"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { teamAction } from "@/lib/http/team-action";
import { createApp, createAppSchema, updateApp, updateAppSchema } from "@/lib/apps/apps";
import { createCustomer, createCustomerSchema, expirySchemaObject, restoreLicense, revokeLicense, revokeSchema, setLicenseExpiry } from "@/lib/licenses/customers";

const team = z.object({ team: z.string() });
const inApp = team.extend({ app: z.string().min(1) });
const onLicense = inApp.extend({ licenseRowId: z.string().min(1), customerId: z.string().min(1) });

export const createAppAction = teamAction("app:manage", team.extend(createAppSchema.shape), async (input, ctx) => {
  const app = await createApp(ctx, input);
  revalidatePath(`/t/${ctx.team.slug}/apps`);
  redirect(`/t/${ctx.team.slug}/apps/${app.slug}`);
});

export const updateAppAction = teamAction(
  "app:manage",
  inApp.extend({
    name: updateAppSchema.shape.name,
    slug: updateAppSchema.shape.slug,
    // One namespace per line or comma-separated, from a textarea.
    namespaces: z.string().max(5000).optional(),
    // Checkboxes: absent when unticked, so the form says it sent them.
    switches: z.literal("1").optional(),
    chartPullSecret: z.literal("on").optional(),
    installPage: z.literal("on").optional(),
  }),
  async ({ app, namespaces, switches, chartPullSecret, installPage, ...input }, ctx) => {
    const list = namespaces === undefined ? undefined : namespaces.split(/[\s,]+/).filter(Boolean);
    const flags = switches ? { chartPullSecret: chartPullSecret === "on", installPage: installPage === "on" } : {};
    const updated = await updateApp(ctx, app, { ...input, additionalNamespaces: list, ...flags });
    revalidatePath(`/t/${ctx.team.slug}/apps`);
    if (updated.slug !== app) redirect(`/t/${ctx.team.slug}/apps/${updated.slug}`);
    revalidatePath(`/t/${ctx.team.slug}/apps/${app}`);
    return { ok: true, message: "App saved." };
  },
);

export const createCustomerAction = teamAction("customer:manage", inApp.extend(createCustomerSchema.shape), async ({ app, team: _t, ...input }, ctx) => {
  void _t;
  const customer = await createCustomer(ctx, app, input);
  revalidatePath(`/t/${ctx.team.slug}/apps/${app}`);
  redirect(`/t/${ctx.team.slug}/apps/${app}/customers/${customer.id}?created=1`);
});

export const revokeLicenseAction = teamAction("license:revoke", onLicense.extend(revokeSchema.shape), async ({ app, customerId, licenseRowId, reason }, ctx) => {
  await revokeLicense(ctx, licenseRowId, reason);
  revalidatePath(`/t/${ctx.team.slug}/apps/${app}/customers/${customerId}`);
  return { ok: true, message: "License revoked. Pulls with it are denied from now on." };
});

export const restoreLicenseAction = teamAction("license:revoke", onLicense, async ({ app, customerId, licenseRowId }, ctx) => {
  await restoreLicense(ctx, licenseRowId);
  revalidatePath(`/t/${ctx.team.slug}/apps/${app}/customers/${customerId}`);
  return { ok: true, message: "License restored." };
});

export const setExpiryAction = teamAction("customer:manage", onLicense.extend(expirySchemaObject.shape), async ({ app, customerId, licenseRowId, expiresAt }, ctx) => {
  await setLicenseExpiry(ctx, licenseRowId, expiresAt ?? null);
  revalidatePath(`/t/${ctx.team.slug}/apps/${app}/customers/${customerId}`);
  return { ok: true, message: expiresAt ? `Expiry set to ${expiresAt.toISOString().slice(0, 10)}. It applies to the next pull.` : "The license no longer expires." };
});
