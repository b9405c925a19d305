"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { addDomain, addDomainSchema, deleteDomain, setDefaultDomain, verifyDomain } from "@/lib/domains/domains";
import { teamAction } from "@/lib/http/team-action";

const withTeam = z.object({ team: z.string() });
const onDomain = withTeam.extend({ id: z.string().min(1).max(100) });
const domainsPath = (team: string) => `/t/${team}/settings/domains`;

export const addDomainAction = teamAction("domain:manage", withTeam.extend(addDomainSchema.shape), async ({ name, service }, ctx) => {
  const domain = await addDomain(ctx, { name, service });
  revalidatePath(domainsPath(ctx.team.slug));
  return { ok: true, message: `Added ${domain.name}. Publish the TXT record below, then verify.` };
});

export const verifyDomainAction = teamAction("domain:manage", onDomain, async ({ id }, ctx) => {
  const domain = await verifyDomain(ctx, id);
  revalidatePath(domainsPath(ctx.team.slug), "layout");
  return { ok: domain.status === "verified", message: domain.message };
});

export const setDefaultDomainAction = teamAction("domain:manage", onDomain.extend({ default: z.enum(["true", "false"]) }), async ({ id, default: on }, ctx) => {
  const domain = await setDefaultDomain(ctx, id, on === "true");
  revalidatePath(domainsPath(ctx.team.slug), "layout");
  return { ok: true, message: domain.default ? `${domain.name} is now the default ${domain.service} domain.` : `${domain.name} is no longer the default.` };
});

export const deleteDomainAction = teamAction("domain:manage", onDomain, async ({ id }, ctx) => {
  await deleteDomain(ctx, id);
  revalidatePath(domainsPath(ctx.team.slug), "layout");
  redirect(domainsPath(ctx.team.slug));
});
