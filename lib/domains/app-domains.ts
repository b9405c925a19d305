import "server-only";
import { z } from "zod";
import { recordActivity } from "@/lib/activity/record";
import { db } from "@/lib/db";
import { env, type PublicUrl } from "@/lib/env";
import { AppError, forbidden, notFound } from "@/lib/errors";
import type { TeamContext } from "@/lib/teams/access";
import { can } from "@/lib/teams/roles";
import type { DomainService } from "./names";
import { DOMAIN_FIELDS, presentDomain } from "./present";

/** Where one face of an app is reached: a verified custom domain (always https: TLS in front) or Gantry's own URL. */
export interface FaceUrl extends PublicUrl {
  /** The custom domain's name, or null for Gantry's own URL. */
  domain: string | null;
}

export interface AppDomains {
  proxy: FaceUrl;
  /** Undefined when Gantry's registry is off. */
  registry: FaceUrl | undefined;
}

const custom = (name: string): FaceUrl => ({ scheme: "https", host: name, origin: `https://${name}`, domain: name });
const own = (url: PublicUrl): FaceUrl => ({ ...url, domain: null });

/** Gantry's own URLs, as AppDomains (no custom domain). */
export function ownDomains(): AppDomains {
  const { urls } = env();
  return { proxy: own(urls.proxy), registry: urls.registry ? own(urls.registry) : undefined };
}

const pick = { select: { name: true, status: true } } as const;

/**
 * An app's domains for everything generated for its customers (rewrites, pull
 * secrets, Helm values, installers, license files, the Registry tab): per
 * face, the app's own pick when it is verified, else the team's default
 * domain for that face when verified, else Gantry's own URL. A domain that
 * failed or was deleted falls back the same way.
 */
export async function appDomains(teamId: string, appId: string): Promise<AppDomains> {
  const [app, defaults] = await Promise.all([
    db.app.findFirst({ where: { id: appId, teamId }, select: { proxyDomain: pick, registryDomain: pick } }),
    db.domain.findMany({ where: { teamId, defaultFor: { not: null }, status: "verified" }, select: { name: true, service: true } }),
  ]);
  const base = ownDomains();
  const face = (service: DomainService, chosen: { name: string; status: string } | null | undefined): FaceUrl | undefined => {
    if (chosen?.status === "verified") return custom(chosen.name);
    const fallback = defaults.find((d) => d.service === service);
    return fallback ? custom(fallback.name) : undefined;
  };
  return {
    proxy: face("proxy", app?.proxyDomain) ?? base.proxy,
    registry: base.registry ? (face("registry", app?.registryDomain) ?? base.registry) : undefined,
  };
}

/** The team's verified domain names per face (images written on them are Gantry's own, never probed upstream). */
export async function teamVerifiedHosts(teamId: string): Promise<Record<DomainService, string[]>> {
  const rows = await db.domain.findMany({ where: { teamId, status: "verified" }, select: { name: true, service: true } });
  return { proxy: rows.filter((r) => r.service === "proxy").map((r) => r.name), registry: rows.filter((r) => r.service === "registry").map((r) => r.name) };
}

const domainField = z.string().trim().toLowerCase().max(300).nullable().optional();
export const appDomainsSchema = z.object({ proxyDomain: domainField, registryDomain: domainField });

/** The app's picks as stored (names), for its settings. */
export async function appDomainPicks(teamId: string, slug: string): Promise<{ proxyDomain: string | null; registryDomain: string | null }> {
  const app = await db.app.findFirst({ where: { teamId, slug }, select: { proxyDomain: { select: { name: true } }, registryDomain: { select: { name: true } } } });
  if (!app) throw notFound("App");
  return { proxyDomain: app.proxyDomain?.name ?? null, registryDomain: app.registryDomain?.name ?? null };
}

/**
 * Sets an app's proxy and/or registry domain by name: a verified domain of the
 * team for that face (422 otherwise); null goes back to the default.
 */
export async function setAppDomains(ctx: TeamContext, slug: string, input: z.input<typeof appDomainsSchema>): Promise<{ proxyDomain: string | null; registryDomain: string | null }> {
  if (!can(ctx.role, "app:manage")) throw forbidden();
  const data = appDomainsSchema.parse(input);
  const app = await db.app.findFirst({ where: { teamId: ctx.team.id, slug }, select: { id: true } });
  if (!app) throw notFound("App");
  const resolve = async (field: "proxyDomain" | "registryDomain", service: DomainService, name: string | null | undefined) => {
    if (name === undefined || name === null || name === "") return name === "" ? null : name;
    const d = await db.domain.findFirst({ where: { teamId: ctx.team.id, name: name.replace(/\.$/, ""), service, status: "verified" }, select: { id: true } });
    if (!d) {
      const message = `${name} is not a verified ${service} domain of this team: add it under Settings → Domains and verify it first.`;
      throw new AppError("VALIDATION", message, { fields: { [field]: [message] } });
    }
    return d.id;
  };
  const proxyDomainId = await resolve("proxyDomain", "proxy", data.proxyDomain);
  const registryDomainId = await resolve("registryDomain", "registry", data.registryDomain);
  await db.$transaction(async (tx) => {
    await tx.app.update({ where: { id: app.id }, data: { ...(proxyDomainId !== undefined ? { proxyDomainId } : {}), ...(registryDomainId !== undefined ? { registryDomainId } : {}) } });
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "app.domains_changed",
      resourceType: "app",
      resourceId: app.id,
      metadata: { app: slug, ...(data.proxyDomain !== undefined ? { proxyDomain: data.proxyDomain || "default" } : {}), ...(data.registryDomain !== undefined ? { registryDomain: data.registryDomain || "default" } : {}) },
      ip: ctx.ip,
    });
  });
  return appDomainPicks(ctx.team.id, slug);
}

/**
 * The address of Gantry's registry for an app (the Registry tab's commands):
 * its registry domain, else Gantry's own; null when the registry is off or
 * not exposed.
 */
export async function appRegistryUrl(teamId: string, appId: string): Promise<{ host: string; url: string } | null> {
  if (!env().registry.enabled) return null;
  const registry = (await appDomains(teamId, appId)).registry;
  return registry ? { host: registry.host, url: registry.origin } : null;
}

/** The team's verified default domain per face, if any. */
export async function teamDefaultHosts(teamId: string): Promise<Record<DomainService, string | null>> {
  const rows = await db.domain.findMany({ where: { teamId, defaultFor: { not: null }, status: "verified" }, select: { name: true, service: true } });
  return { proxy: rows.find((r) => r.service === "proxy")?.name ?? null, registry: rows.find((r) => r.service === "registry")?.name ?? null };
}

/**
 * What is wrong with the domains an app picked, in sentences for its page: a
 * picked domain that failed (the app fell back to the default) or one whose
 * record was missed once (it fails at the next check unless the record returns).
 */
export async function appDomainProblems(teamId: string, appId: string, now = new Date()): Promise<string[]> {
  const fields = { select: DOMAIN_FIELDS } as const;
  const app = await db.app.findFirst({ where: { id: appId, teamId }, select: { proxyDomain: fields, registryDomain: fields } });
  const problems: string[] = [];
  for (const d of [app?.proxyDomain, app?.registryDomain]) {
    if (!d) continue;
    if (d.status === "failed") problems.push(`${d.name} failed (its TXT record is missing) and is no longer served: this app's customers get the default ${d.service} domain in new files, and pull secrets that name ${d.name} stop working. Publish the record again and verify it under Settings → Domains.`);
    else if (d.status !== "verified") problems.push(`${d.name} is not verified: this app uses the default ${d.service} domain until it is.`);
    else {
      const warning = presentDomain(d, now).warning;
      if (warning) problems.push(warning);
    }
  }
  return problems;
}
