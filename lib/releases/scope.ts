import "server-only";
import { z } from "zod";
import { db } from "@/lib/db";
import { processWide } from "@/lib/process-wide";
import { log } from "@/lib/log";
import { recordActivity } from "@/lib/activity/record";
import { AppError, forbidden, notFound } from "@/lib/errors";
import { forgetLicenseDecisions } from "@/lib/licenses/pull-decision";
import type { TeamContext } from "@/lib/teams/access";
import { can } from "@/lib/teams/roles";
import { matchesPattern, parsePattern, PatternError, validatePatterns, type Pattern } from "./patterns";
import { compareVersions } from "./version";

/**
 * What a license can reach at the proxy: a repository ("<registry path name>/
 * <repository>", what follows proxy/<app>/ in a proxied name) is in scope when it
 * is an image of one of the app's non-archived releases that the license's pin
 * allows, or when it matches one of the app's extra patterns. Nothing else: an
 * app with no releases and no patterns allows nothing.
 *
 * The check runs on every proxied request, so it reads an in-process snapshot
 * per app (repository → the releases shipping it, plus the compiled patterns).
 * A snapshot is used for at most SNAPSHOT_TTL_MS from the moment its query
 * started, then reloaded (one load at a time per app): any change in the
 * database — a release created or archived, patterns edited on another instance
 * — is seen within a second (the TTL leaves room for the reload itself).
 * Past a third of the TTL a check refreshes the snapshot in the background, so
 * an app with steady traffic does not wait for loads. Changes made through this
 * module in this process drop the snapshot at once.
 */
export const SNAPSHOT_TTL_MS = 750;
const MAX_SNAPSHOTS = 10_000;

interface ReleaseRef {
  version: string;
  createdAt: Date;
}

interface Snapshot {
  loadedAt: number;
  repositories: Map<string, ReleaseRef[]>;
  patterns: Pattern[];
}

export interface LicensePin {
  maxVersion: string | null;
  releasedBefore: Date | null;
}

// One state per process (processWide): Next's bundle invalidates on release and pattern changes, the proxy reads.
type ScopeState = { snapshots: Map<string, Snapshot>; loading: Map<string, Promise<Snapshot>>; generation: number };
const state = processWide<ScopeState>("release-scope", () => ({ snapshots: new Map(), loading: new Map(), generation: 0 }));
const { snapshots, loading } = state;

function parseStoredPatterns(json: string): string[] {
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

function compileStored(list: string[]): Pattern[] {
  const out: Pattern[] = [];
  for (const p of list) {
    try {
      out.push(parsePattern(p));
    } catch {
      // A stored pattern that no longer parses allows nothing.
    }
  }
  return out;
}

async function load(appId: string): Promise<Snapshot> {
  const loadedAt = Date.now();
  const [app, images] = await Promise.all([
    db.app.findUnique({ where: { id: appId }, select: { extraPatterns: true } }),
    db.releaseImage.findMany({
      where: { appId, upstreamRepository: { not: null }, release: { archivedAt: null } },
      select: { upstreamRepository: true, release: { select: { version: true, createdAt: true } } },
    }),
  ]);
  const repositories = new Map<string, ReleaseRef[]>();
  for (const image of images) {
    if (!image.upstreamRepository) continue;
    const list = repositories.get(image.upstreamRepository);
    if (list) list.push(image.release);
    else repositories.set(image.upstreamRepository, [image.release]);
  }
  return { loadedAt, repositories, patterns: compileStored(app ? parseStoredPatterns(app.extraPatterns) : []) };
}

// state.generation is bumped by invalidateScope: a load that started before an invalidation is not kept.

function reload(appId: string): Promise<Snapshot> {
  let pending = loading.get(appId);
  if (!pending) {
    const startedIn = state.generation;
    pending = load(appId)
      .then((snap) => {
        if (startedIn !== state.generation) return snap;
        if (snapshots.size >= MAX_SNAPSHOTS && !snapshots.has(appId)) {
          const oldest = snapshots.keys().next().value;
          if (oldest !== undefined) snapshots.delete(oldest);
        }
        const current = snapshots.get(appId);
        // A slower load that started earlier never replaces a newer snapshot.
        if (!current || current.loadedAt <= snap.loadedAt) {
          snapshots.delete(appId);
          snapshots.set(appId, snap);
        }
        return snap;
      })
      .finally(() => {
        if (loading.get(appId) === pending) loading.delete(appId);
      });
    loading.set(appId, pending);
  }
  return pending;
}

async function snapshotFor(appId: string): Promise<Snapshot> {
  const current = snapshots.get(appId);
  const age = current ? Date.now() - current.loadedAt : Infinity;
  if (current && age < SNAPSHOT_TTL_MS) {
    // Past a third of its life, refresh in the background: an app with steady traffic never waits for a load.
    if (age >= SNAPSHOT_TTL_MS / 3 && !loading.has(appId)) {
      reload(appId).catch((e: unknown) => log.warn("release scope refresh failed", { appId, error: e instanceof Error ? e.message : String(e) }));
    }
    return current;
  }
  return reload(appId);
}

/** Drops cached snapshots (one app's, or all): the next check reads the database. */
export function invalidateScope(appId?: string): void {
  state.generation++;
  if (appId === undefined) {
    snapshots.clear();
    loading.clear();
  } else {
    snapshots.delete(appId);
    loading.delete(appId);
  }
}

/** Whether a release is within a license's pin: up to maxVersion (semver-first order) and created before releasedBefore. */
function releaseWithinPin(release: ReleaseRef, pin: LicensePin): boolean {
  if (pin.maxVersion !== null && compareVersions(release.version, pin.maxVersion) > 0) return false;
  if (pin.releasedBefore !== null && !(release.createdAt.getTime() < pin.releasedBefore.getTime())) return false;
  return true;
}

export async function isInReleaseScope(args: { appId: string; upstreamRepository: string; license: LicensePin }): Promise<boolean> {
  const snap = await snapshotFor(args.appId);
  const releases = snap.repositories.get(args.upstreamRepository);
  if (releases?.some((r) => releaseWithinPin(r, args.license))) return true;
  return snap.patterns.some((p) => matchesPattern(p, args.upstreamRepository));
}

async function teamApp(teamId: string, appSlug: string) {
  const app = await db.app.findFirst({ where: { teamId, slug: appSlug }, select: { id: true, slug: true, name: true, extraPatterns: true } });
  if (!app) throw notFound("App");
  return app;
}

export async function getExtraPatterns(teamId: string, appSlug: string): Promise<string[]> {
  return parseStoredPatterns((await teamApp(teamId, appSlug)).extraPatterns);
}

export const extraPatternsSchema = z.object({ extraPatterns: z.array(z.string().max(1000)).max(1000) });

/** Replaces an app's extra patterns (owners and admins). Invalid patterns: 422 VALIDATION with fields.patterns. */
export async function setExtraPatterns(ctx: TeamContext, appSlug: string, patterns: string[]): Promise<string[]> {
  if (!can(ctx.role, "app:manage")) throw forbidden();
  const app = await teamApp(ctx.team.id, appSlug);
  let list: string[];
  try {
    list = validatePatterns(patterns);
  } catch (e) {
    if (e instanceof PatternError) throw new AppError("VALIDATION", e.message, { fields: { patterns: [e.message] } });
    throw e;
  }
  const before = parseStoredPatterns(app.extraPatterns);
  await db.$transaction(async (tx) => {
    // From the list that was read (the log's "from"): a concurrent change makes this a 409, not a lost update.
    const { count } = await tx.app.updateMany({ where: { id: app.id, extraPatterns: app.extraPatterns }, data: { extraPatterns: JSON.stringify(list) } });
    if (count !== 1) throw new AppError("CONFLICT", "The patterns were changed meanwhile. Reload the page and try again.");
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "app.patterns_changed",
      resourceType: "app",
      resourceId: app.id,
      metadata: { app: app.slug, from: before.join(" ") || "none", to: list.join(" ") || "none" },
      ip: ctx.ip,
    });
  });
  invalidateScope(app.id);
  return list;
}

const versionLabel = z.string().trim().min(1, "Give a version.").max(128, "At most 128 characters.");
export const pinSchema = z.object({
  maxVersion: versionLabel.nullable().optional(),
  releasedBefore: z.iso.datetime({ offset: true, message: "Give an ISO 8601 date-time, such as 2026-01-31T00:00:00Z." }).nullable().optional(),
});

/** Sets a license's pin (owners and admins). An omitted field is left as it is; null clears it. */
export async function setLicensePin(ctx: TeamContext, licenseRowId: string, pin: { maxVersion?: string | null; releasedBefore?: Date | null }): Promise<LicensePin> {
  if (!can(ctx.role, "customer:manage")) throw forbidden();
  const current = await db.license.findFirst({
    where: { id: licenseRowId, teamId: ctx.team.id },
    select: { id: true, fingerprint: true, maxVersion: true, releasedBefore: true, customer: { select: { name: true } }, app: { select: { slug: true } } },
  });
  if (!current) throw notFound("License");
  const maxVersion = pin.maxVersion === undefined ? current.maxVersion : pin.maxVersion === null ? null : pin.maxVersion.trim();
  if (maxVersion !== null && (maxVersion === "" || maxVersion.length > 128)) {
    throw new AppError("VALIDATION", "Give a version of at most 128 characters.", { fields: { maxVersion: ["Give a version of at most 128 characters."] } });
  }
  const releasedBefore = pin.releasedBefore === undefined ? current.releasedBefore : pin.releasedBefore;
  if (releasedBefore !== null && Number.isNaN(releasedBefore.getTime())) {
    throw new AppError("VALIDATION", "Give a valid date.", { fields: { releasedBefore: ["Give a valid date."] } });
  }
  const pinned = await db.$transaction(async (tx) => {
    // An omitted field keeps the value read above, so the write is conditional on both values still being those.
    const { count } = await tx.license.updateMany({
      where: { id: current.id, maxVersion: current.maxVersion, releasedBefore: current.releasedBefore },
      data: { maxVersion, releasedBefore },
    });
    if (count !== 1) throw new AppError("CONFLICT", "The pin was changed meanwhile. Reload the page and try again.");
    const updated = await tx.license.findUniqueOrThrow({ where: { id: current.id }, select: { maxVersion: true, releasedBefore: true } });
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "license.pinned",
      resourceType: "license",
      resourceId: current.id,
      metadata: {
        customer: current.customer.name,
        app: current.app.slug,
        license: current.fingerprint,
        maxVersion: updated.maxVersion ?? "any",
        releasedBefore: updated.releasedBefore?.toISOString() ?? "any",
      },
      ip: ctx.ip,
    });
    return updated;
  });
  forgetLicenseDecisions(); // the proxy's next request sees the pin
  return pinned;
}

/** For the app page: how many releases, how many not archived, the patterns, and whether licenses can reach anything at all. */
export async function appScopeSummary(teamId: string, appSlug: string): Promise<{ releases: number; activeReleases: number; patterns: string[]; allowsNothing: boolean }> {
  const app = await teamApp(teamId, appSlug);
  const [releases, activeReleases, activeImages] = await Promise.all([
    db.release.count({ where: { appId: app.id } }),
    db.release.count({ where: { appId: app.id, archivedAt: null } }),
    db.releaseImage.count({ where: { appId: app.id, upstreamRepository: { not: null }, release: { archivedAt: null } } }),
  ]);
  const patterns = parseStoredPatterns(app.extraPatterns);
  return { releases, activeReleases, patterns, allowsNothing: activeImages === 0 && compileStored(patterns).length === 0 };
}
