import { z } from "zod";
import { appDomainsSchema, setAppDomains } from "@/lib/domains/app-domains";
import { apiRoute } from "@/lib/http/api-route";
import { extraPatternsSchema, setExtraPatterns } from "@/lib/releases/scope";

const params = z.object({ slug: z.string().min(1).max(64) });
const body = extraPatternsSchema.partial().merge(appDomainsSchema);

// PATCH /api/v1/apps/{slug} — any of:
// - {extraPatterns: string[]}: the repositories ("<registry path name>/<repository pattern>", `*` within a segment, `**` across)
//   the app's licenses may pull besides its releases' images; 422 with fields.patterns for an invalid pattern;
// - {proxyDomain?: string | null, registryDomain?: string | null}: the custom domain (a verified one of the team's, by name;
//   422 otherwise) the app's customers pull from per face; null: the team's default, else Gantry's own URL.
// → {app: {slug, extraPatterns?, proxyDomain?, registryDomain?}}
export const PATCH = apiRoute({ permission: "app:manage", params, body }, async (ctx, { params, body }) => {
  const app: Record<string, unknown> = { slug: params.slug };
  if (body.proxyDomain !== undefined || body.registryDomain !== undefined) {
    Object.assign(app, await setAppDomains(ctx, params.slug, { proxyDomain: body.proxyDomain, registryDomain: body.registryDomain }));
  }
  if (body.extraPatterns !== undefined) app.extraPatterns = await setExtraPatterns(ctx, params.slug, body.extraPatterns);
  return { body: { app } };
});
