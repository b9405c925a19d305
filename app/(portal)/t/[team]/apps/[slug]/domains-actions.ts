"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { setAppDomains } from "@/lib/domains/app-domains";
import { teamAction } from "@/lib/http/team-action";

// "" from the form means the default (the team's default domain for that face, else Gantry's own URL).
const picked = z.string().max(300).transform((v) => v || null);

export const saveAppDomainsAction = teamAction(
  "app:manage",
  z.object({ team: z.string(), app: z.string().min(1), proxyDomain: picked, registryDomain: picked.optional() }),
  async ({ app, proxyDomain, registryDomain }, ctx) => {
    const saved = await setAppDomains(ctx, app, { proxyDomain, ...(registryDomain !== undefined ? { registryDomain } : {}) });
    revalidatePath(`/t/${ctx.team.slug}/apps/${app}`, "layout");
    return { ok: true, message: `Customers now pull from ${saved.proxyDomain ?? "the default proxy domain"}${registryDomain !== undefined ? ` and ${saved.registryDomain ?? "the default registry domain"}` : ""}. New previews, installers and pull secrets use it; releases keep the names they were made with.` };
  },
);
