import "server-only";
import crypto from "node:crypto";
import { z } from "zod";
import { recordActivity } from "@/lib/activity/record";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { AppError, forbidden, notFound } from "@/lib/errors";
import type { TeamContext } from "@/lib/teams/access";
import { can } from "@/lib/teams/roles";
import { isUniqueViolation } from "@/lib/transactions";
import { checkDomain } from "./check";
import { DOMAIN_SERVICES, DomainNameError, normalizeDomainName, reservedProblem } from "./names";
import { claimExpiresAt, DOMAIN_FIELDS, presentDomain, type DomainRow, type DomainView } from "./present";
import { forgetServedDomains } from "./served";

export const addDomainSchema = z.object({
  name: z.string().max(300),
  service: z.enum(DOMAIN_SERVICES, { message: 'service must be "proxy" or "registry".' }),
});

export const MAX_DOMAINS_PER_TEAM = 100;

/** Every change is for owners and admins, whoever calls (routes and actions check it too). */
function assertManager(ctx: TeamContext): void {
  if (!can(ctx.role, "domain:manage")) throw forbidden();
}

const invalidName = (message: string) => new AppError("VALIDATION", message, { fields: { name: [message] } });

/** The TXT value: 160 random bits, prefixed so a zone's other TXT records are not mistaken for it. */
const newToken = () => `gantry-verify=${crypto.randomBytes(20).toString("base64url")}`;

export async function listDomains(teamId: string, now = new Date()): Promise<DomainView[]> {
  const rows = await db.domain.findMany({ where: { teamId }, select: DOMAIN_FIELDS, orderBy: [{ service: "asc" }, { name: "asc" }] });
  return rows.map((r) => presentDomain(r, now));
}

/** Every domain of every team, for the operator's CLI (`gantry domains`). */
export async function allDomains(opts: { verifiedOnly?: boolean } = {}) {
  const rows = await db.domain.findMany({
    where: opts.verifiedOnly ? { status: "verified" } : {},
    select: { ...DOMAIN_FIELDS, team: { select: { slug: true } } },
    orderBy: { name: "asc" },
  });
  return rows.map(({ team, ...r }) => ({ name: r.name, service: r.service, status: r.status, team: team.slug, verifiedAt: r.verifiedAt?.toISOString() ?? null, checkedAt: r.checkedAt?.toISOString() ?? null }));
}

async function row(teamId: string, id: string): Promise<DomainRow> {
  const d = await db.domain.findFirst({ where: { id, teamId }, select: DOMAIN_FIELDS });
  if (!d) throw notFound("Domain");
  return d;
}

/** One of the team's domains; another team's is NOT_FOUND, exactly like a missing one. */
export async function getDomain(teamId: string, id: string): Promise<DomainView> {
  return presentDomain(await row(teamId, id));
}

/**
 * Claims a name for the team, pending until its TXT record is found. A name is
 * one team's across Gantry: held by another team it is a CONFLICT, unless
 * that claim lapsed (pending for 7 days, or failed 7 days ago), which is then
 * taken over. The unique index on the name decides races.
 */
export async function addDomain(ctx: TeamContext, input: z.input<typeof addDomainSchema>, now = new Date()): Promise<DomainView> {
  assertManager(ctx);
  const data = addDomainSchema.parse(input);
  let name: string;
  try {
    name = normalizeDomainName(data.name);
  } catch (e) {
    if (e instanceof DomainNameError) throw invalidName(e.message);
    throw e;
  }
  const reserved = reservedProblem(name, env());
  if (reserved) throw invalidName(reserved);
  const taken = () => new AppError("CONFLICT", `${name} is already claimed on this Gantry.`, { fields: { name: [`${name} is already claimed on this Gantry.`] } });
  const existing = await db.domain.findUnique({ where: { name }, select: DOMAIN_FIELDS });
  if (existing && existing.teamId === ctx.team.id) {
    const message = `${name} is already one of this team's domains (${existing.service}).`;
    throw new AppError("CONFLICT", message, { fields: { name: [message] } });
  }
  if (existing) {
    const lapses = claimExpiresAt(existing);
    if (!lapses || lapses > now) throw taken();
  }
  if ((await db.domain.count({ where: { teamId: ctx.team.id } })) >= MAX_DOMAINS_PER_TEAM) {
    throw new AppError("VALIDATION", `A team has at most ${MAX_DOMAINS_PER_TEAM} domains: delete one first.`);
  }
  try {
    const created = await db.$transaction(async (tx) => {
      if (existing) {
        // Conditional on the lapsed state that was read: a claim verified meanwhile is kept.
        const { count } = await tx.domain.deleteMany({ where: { id: existing.id, status: existing.status, createdAt: existing.createdAt } });
        if (count !== 1) throw taken();
        await recordActivity(tx, { teamId: existing.teamId, actor: { type: "system", label: "Gantry" }, action: "domain.expired", resourceType: "domain", resourceId: existing.id, metadata: { name, service: existing.service, takenOver: true } });
      }
      const d = await tx.domain.create({ data: { teamId: ctx.team.id, name, service: data.service, token: newToken(), nextCheckAt: now }, select: DOMAIN_FIELDS });
      await recordActivity(tx, { teamId: ctx.team.id, actor: ctx.actor, action: "domain.added", resourceType: "domain", resourceId: d.id, metadata: { name, service: data.service }, ip: ctx.ip });
      return d;
    });
    forgetServedDomains();
    return presentDomain(created, now);
  } catch (e) {
    if (isUniqueViolation(e)) throw taken();
    throw e;
  }
}

/** Looks the TXT record up now (the Verify button, POST …/verify). */
export async function verifyDomain(ctx: TeamContext, id: string, now = new Date()): Promise<DomainView> {
  assertManager(ctx);
  const d = await row(ctx.team.id, id);
  return presentDomain(await checkDomain(d, ctx.actor, now, ctx.ip), now);
}

/** Deletes a domain: apps that picked it fall back to the team default (or Gantry's own URL). */
export async function deleteDomain(ctx: TeamContext, id: string): Promise<void> {
  assertManager(ctx);
  const d = await row(ctx.team.id, id);
  await db.$transaction(async (tx) => {
    const { count } = await tx.domain.deleteMany({ where: { id: d.id, teamId: ctx.team.id } });
    if (count !== 1) throw notFound("Domain");
    await recordActivity(tx, { teamId: ctx.team.id, actor: ctx.actor, action: "domain.removed", resourceType: "domain", resourceId: d.id, metadata: { name: d.name, service: d.service }, ip: ctx.ip });
  });
  forgetServedDomains();
}

/** Makes a verified domain the team's default for its face (or stops it being the default). */
export async function setDefaultDomain(ctx: TeamContext, id: string, isDefault: boolean): Promise<DomainView> {
  assertManager(ctx);
  const d = await row(ctx.team.id, id);
  if (isDefault && d.status !== "verified") throw new AppError("VALIDATION", `Verify ${d.name} before making it the default.`);
  const updated = await db.$transaction(async (tx) => {
    if (isDefault) await tx.domain.updateMany({ where: { teamId: ctx.team.id, defaultFor: d.service, NOT: { id: d.id } }, data: { defaultFor: null } });
    await tx.domain.update({ where: { id: d.id }, data: { defaultFor: isDefault ? d.service : null } });
    await recordActivity(tx, { teamId: ctx.team.id, actor: ctx.actor, action: "domain.default_changed", resourceType: "domain", resourceId: d.id, metadata: { name: d.name, service: d.service, default: isDefault }, ip: ctx.ip });
    return tx.domain.findUniqueOrThrow({ where: { id: d.id }, select: DOMAIN_FIELDS });
  }).catch((e: unknown) => {
    if (isUniqueViolation(e)) throw new AppError("CONFLICT", "The default changed meanwhile. Reload and try again.");
    throw e;
  });
  return presentDomain(updated);
}

/** How many of the team's apps picked each domain (either face), by domain id. */
export async function domainUsage(teamId: string): Promise<Map<string, number>> {
  const apps = await db.app.findMany({ where: { teamId, OR: [{ proxyDomainId: { not: null } }, { registryDomainId: { not: null } }] }, select: { proxyDomainId: true, registryDomainId: true } });
  const usage = new Map<string, number>();
  for (const a of apps) for (const id of [a.proxyDomainId, a.registryDomainId]) if (id) usage.set(id, (usage.get(id) ?? 0) + 1);
  return usage;
}
