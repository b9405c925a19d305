import "server-only";
import { z } from "zod";
import { db } from "@/lib/db";
import { AppError, notFound } from "@/lib/errors";
import { recordActivity } from "@/lib/activity/record";
import { isUniqueViolation, serializable } from "@/lib/transactions";
import type { TeamContext } from "@/lib/teams/access";
import { slugProblem } from "./slug";

const slugSchema = z
  .string()
  .trim()
  .toLowerCase()
  .superRefine((s, c) => {
    const p = slugProblem(s);
    if (p) c.addIssue({ code: "custom", message: p });
  });

const NAMESPACE_RE = /^(\*|[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$/;
export const namespacesSchema = z
  .array(z.string().trim().regex(NAMESPACE_RE, "Each namespace must be a Kubernetes name (lowercase letters, digits, dashes) or *."))
  .max(50, "At most 50 namespaces.")
  .transform((list) => [...new Set(list)]);

export const createAppSchema = z.object({
  name: z.string().trim().min(1, "Give the app a name.").max(80, "At most 80 characters."),
  slug: slugSchema,
});

export const updateAppSchema = z.object({
  name: z.string().trim().min(1, "Give the app a name.").max(80, "At most 80 characters.").optional(),
  slug: slugSchema.optional(),
  additionalNamespaces: namespacesSchema.optional(),
  /** Charts its customers pull carry templates/gantry-pull-secret.yaml (lib/charts/variant.ts). */
  chartPullSecret: z.boolean().optional(),
  /** Whether its customers may sign in at /install with their license. */
  installPage: z.boolean().optional(),
});

const APP_FIELDS = { id: true, name: true, slug: true, additionalNamespaces: true, chartPullSecret: true, installPage: true, createdAt: true, updatedAt: true } as const;

/** The stored JSON list of additional namespaces; a list that does not parse adds none. */
export function parseNamespaces(json: string): string[] {
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

function present<T extends { additionalNamespaces: string }>(app: T) {
  return { ...app, additionalNamespaces: parseNamespaces(app.additionalNamespaces) };
}

async function withCounts<T extends { id: string; additionalNamespaces: string }>(app: T) {
  const licenseCount = await db.license.count({ where: { appId: app.id } });
  return { ...present(app), licenseCount, slugLocked: licenseCount > 0 };
}

export async function listApps(teamId: string) {
  const apps = await db.app.findMany({ where: { teamId }, orderBy: { name: "asc" }, select: { ...APP_FIELDS, _count: { select: { customers: true } } } });
  return apps.map(({ _count, ...a }) => ({ ...present(a), customerCount: _count.customers }));
}

/** A team's app by slug. Another team's slug is NOT_FOUND, exactly like a missing one. */
export async function getApp(teamId: string, slug: string) {
  const app = await db.app.findFirst({ where: { teamId, slug }, select: APP_FIELDS });
  if (!app) throw notFound("App");
  return withCounts(app);
}

function slugTaken(slug: string) {
  const message = `The slug "${slug}" is taken. Slugs are unique across Gantry because they appear in image paths.`;
  return new AppError("CONFLICT", message, { fields: { slug: [message] } });
}

/** A friendly early answer; the unique index on App.slug decides races (see `slugTakenOnRace`). */
async function assertSlugFree(slug: string) {
  if (await db.app.findUnique({ where: { slug }, select: { id: true } })) throw slugTaken(slug);
}

/** Two requests taking the same free slug at once: the unique index refuses the second; answer 409, not 500. */
function slugTakenOnRace(slug: string) {
  return (e: unknown): never => {
    throw isUniqueViolation(e) ? slugTaken(slug) : e;
  };
}

const SLUG_LOCKED = "The slug is locked: customers' image paths already use it.";
const SLUG_LOCKED_FIELD = "The slug is locked because the app has licenses: customers' image paths already use it.";

export async function createApp(ctx: TeamContext, input: z.input<typeof createAppSchema>) {
  const data = createAppSchema.parse(input);
  await assertSlugFree(data.slug);
  return db.$transaction(async (tx) => {
    const app = await tx.app.create({ data: { teamId: ctx.team.id, name: data.name, slug: data.slug }, select: APP_FIELDS });
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "app.created",
      resourceType: "app",
      resourceId: app.id,
      metadata: { name: app.name, slug: app.slug },
      ip: ctx.ip,
    });
    return { ...present(app), licenseCount: 0, slugLocked: false };
  }).catch(slugTakenOnRace(data.slug));
}

const slugLocked = () => new AppError("CONFLICT", SLUG_LOCKED, { fields: { slug: [SLUG_LOCKED_FIELD] } });

export async function updateApp(ctx: TeamContext, slug: string, input: z.input<typeof updateAppSchema>) {
  const app = await getApp(ctx.team.id, slug);
  const data = updateAppSchema.parse(input);
  const slugChange = data.slug !== undefined && data.slug !== app.slug;
  if (slugChange) {
    if (app.slugLocked) throw slugLocked();
    await assertSlugFree(data.slug ?? "");
  }
  // The lock is derived from the license count, so it is counted again inside a
  // serializable transaction: a first license racing this change (createCustomer
  // re-reads the slug in its own) makes one of the two fail, never both succeed.
  return serializable(async (tx) => {
    if (slugChange && (await tx.license.count({ where: { appId: app.id } })) > 0) {
      throw slugLocked();
    }
    // From the slug that was read: a concurrent rename makes this a 409, not a silent overwrite.
    const { count } = await tx.app.updateMany({
      where: { id: app.id, teamId: ctx.team.id, slug: app.slug },
      data: {
        name: data.name,
        slug: slugChange ? data.slug : undefined,
        additionalNamespaces: data.additionalNamespaces ? JSON.stringify(data.additionalNamespaces) : undefined,
        chartPullSecret: data.chartPullSecret,
        installPage: data.installPage,
      },
    });
    if (count !== 1) throw new AppError("CONFLICT", "The app was renamed meanwhile. Reload the page and try again.");
    const updated = await tx.app.findUniqueOrThrow({ where: { id: app.id }, select: APP_FIELDS });
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "app.updated",
      resourceType: "app",
      resourceId: app.id,
      metadata: {
        name: updated.name,
        ...(slugChange ? { slug: `${app.slug} → ${updated.slug}` } : {}),
        ...(data.additionalNamespaces ? { namespaces: data.additionalNamespaces.join(",") || "none" } : {}),
        ...(data.chartPullSecret !== undefined ? { chartPullSecret: data.chartPullSecret } : {}),
        ...(data.installPage !== undefined ? { installPage: data.installPage } : {}),
      },
      ip: ctx.ip,
    });
    return { ...present(updated), licenseCount: app.licenseCount, slugLocked: app.slugLocked };
  }).catch(slugTakenOnRace(data.slug ?? app.slug));
}
