import { z } from "zod";
import { appDomainsSchema, setAppDomains } from "@/lib/domains/app-domains";
import { updateApp, updateAppSchema } from "@/lib/apps/apps";
import { apiRoute } from "@/lib/http/api-route";
import { extraPatternsSchema, setExtraPatterns } from "@/lib/releases/scope";

const params = z.object({ slug: z.string().min(1).max(64) });
const body = extraPatternsSchema.partial().merge(appDomainsSchema).merge(updateAppSchema.pick({ chartPullSecret: true, installPage: true }));

// PATCH /api/v1/apps/{slug} — any of:
// - {extraPatterns: string[]}: the repositories ("<registry path name>/<repository pattern>", `*` within a segment, `**` across)
//   the app's licenses may pull besides its releases' images; 422 with fields.patterns for an invalid pattern;
// - {proxyDomain?: string | null, registryDomain?: string | null}: the custom domain (a verified one of the team's, by name;
//   422 otherwise) the app's customers pull from per face; null: the team's default, else Gantry's own URL.
// - {chartPullSecret?: boolean}: charts its licenses pull carry templates/gantry-pull-secret.yaml;
// - {installPage?: boolean}: whether its customers may sign in at /install with their license.
// → {app: {slug, extraPatterns?, proxyDomain?, registryDomain?, chartPullSecret?, installPage?}}
export const PATCH = apiRoute({ permission: "app:manage", params, body }, async (ctx, { params, body }) => {
  const app: Record<string, unknown> = { slug: params.slug };
  if (body.proxyDomain !== undefined || body.registryDomain !== undefined) {
    Object.assign(app, await setAppDomains(ctx, params.slug, { proxyDomain: body.proxyDomain, registryDomain: body.registryDomain }));
  }
  if (body.extraPatterns !== undefined) app.extraPatterns = await setExtraPatterns(ctx, params.slug, body.extraPatterns);
  if (body.chartPullSecret !== undefined || body.installPage !== undefined) {
    const updated = await updateApp(ctx, params.slug, { chartPullSecret: body.chartPullSecret, installPage: body.installPage });
    Object.assign(app, { chartPullSecret: updated.chartPullSecret, installPage: updated.installPage });
  }
  return { body: { app } };
});
