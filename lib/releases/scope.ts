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
import { parseReference } from "@/lib/registry-client/reference";
import { compareVersions } from "./version";

/**
 * What a license can reach, at the proxy and on Gantry's own registry. A
 * repository ("<registry path name>/<repository>", what follows proxy/<app>/
 * in a proxied name) is in scope when it is an image of one of the app's
 * non-archived releases that the license's pin allows, or when it matches one
 * of the app's extra patterns. Nothing else: an app with no releases and no
 * patterns allows nothing.
 *
 * Within a repository, an unpinned license reaches every tag and digest
 * (vendors retag). A pinned license (maxVersion and/or releasedBefore) reaches
 * only the tags that releases within its pin name for that repository, and by
 * digest what those tags resolved to (pinned-digests.ts); blobs stay
 * repository-scoped. A repository matching an extra pattern keeps repository
 * scope for every license: patterns name repositories, not versions.
 *
 * The check runs on every proxied request, so it reads an in-process snapshot
 * per app (repository → the releases shipping it with the tag and digests each
 * names, plus the compiled patterns). A snapshot is used for at most
 * SNAPSHOT_TTL_MS from the moment its query started, then reloaded (one load
 * at a time per app): any change in the database — a release created or
 * archived, patterns edited on another instance — is seen within a second
 * (the TTL leaves room for the reload itself). Past a third of the TTL a check
 * refreshes the snapshot in the background, so an app with steady traffic does
 * not wait for loads. Changes made through this module in this process drop
 * the snapshot at once.
 */
export const SNAPSHOT_TTL_MS = 750;
const MAX_SNAPSHOTS = 10_000;

interface ReleaseRef {
  version: string;
  createdAt: Date;
}

/** One image of a release: the tag it names (null for a reference by digest alone) and the digests it resolved to. */
interface ShippedImage {
  release: ReleaseRef;
  tag: string | null;
  /** The digest written in the reference, seen when the release was probed, and before its last re-probe. */
  digests: string[];
}

interface Snapshot {
  loadedAt: number;
  repositories: Map<string, ShippedImage[]>;
  patterns: Pattern[];
  /** What a pinned license reaches per "<repository>\0<pin>", computed once per snapshot. */
  pinned: Map<string, ScopeAnswer>;
}

/**
 * What a license reaches in one repository: nothing ("outside": no release
 * lists it, no pattern matches; "beyond-pin": only releases past the license's
 * pin list it), every tag and digest ("repository"), or, for a pinned license,
 * the tags its releases name and the digests they were seen at ("pinned").
 */
export type ScopeAnswer =
  | { kind: "outside" }
  | { kind: "beyond-pin"; pin: LicensePin }
  | { kind: "repository" }
  | PinnedScope;

export interface PinnedScope {
  kind: "pinned";
  pin: LicensePin;
  tags: ReadonlySet<string>;
  digests: ReadonlySet<string>;
}

const OUTSIDE: ScopeAnswer = { kind: "outside" };
const REPOSITORY: ScopeAnswer = { kind: "repository" };
const MAX_PINNED_ANSWERS = 10_000;

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

/** The tag and digests an image reference names; null when it does not parse (it then names nothing). */
function shipped(image: { image: string; digest: string | null; previousDigest: string | null; release: ReleaseRef }): ShippedImage | null {
  let ref;
  try {
    ref = parseReference(image.image);
  } catch {
    return null;
  }
  const digests = [ref.digest, image.digest, image.previousDigest].filter((d): d is string => typeof d === "string" && d.length > 0);
  // No tag and no digest means latest, as a container runtime reads it.
  return { release: image.release, tag: ref.tag ?? (ref.digest ? null : "latest"), digests: [...new Set(digests)] };
}

async function load(appId: string): Promise<Snapshot> {
  const loadedAt = Date.now();
  // One query per table: the app's patterns, its releases in service, their images and their charts.
  const [app, releases] = await Promise.all([
    db.app.findUnique({ where: { id: appId }, select: { extraPatterns: true } }),
    db.release.findMany({
      where: { appId, archivedAt: null },
      select: {
        version: true,
        createdAt: true,
        images: { where: { upstreamRepository: { not: null } }, select: { upstreamRepository: true, image: true, digest: true, previousDigest: true } },
        // Charts on Gantry's registry are in scope exactly as images are: by tag, and by the digest recorded at creation.
        charts: { select: { upstreamRepository: true, reference: true, digest: true } },
      },
    }),
  ]);
  const images = releases.flatMap((r) => {
    const release = { version: r.version, createdAt: r.createdAt };
    return [
      ...r.images.map((i) => ({ ...i, release })),
      ...r.charts.map((c) => ({ upstreamRepository: c.upstreamRepository, image: c.reference, digest: c.digest, previousDigest: null, release })),
    ];
  });
  const repositories = new Map<string, ShippedImage[]>();
  for (const image of images) {
    if (!image.upstreamRepository) continue;
    const entry = shipped(image) ?? { release: image.release, tag: null, digests: [] };
    const list = repositories.get(image.upstreamRepository);
    if (list) list.push(entry);
    else repositories.set(image.upstreamRepository, [entry]);
  }
  return { loadedAt, repositories, patterns: compileStored(app ? parseStoredPatterns(app.extraPatterns) : []), pinned: new Map() };
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
export function releaseWithinPin(release: ReleaseRef, pin: LicensePin): boolean {
  if (pin.maxVersion !== null && compareVersions(release.version, pin.maxVersion) > 0) return false;
  if (pin.releasedBefore !== null && !(release.createdAt.getTime() < pin.releasedBefore.getTime())) return false;
  return true;
}

const isPinned = (pin: LicensePin) => pin.maxVersion !== null || pin.releasedBefore !== null;

/** What a license reaches in a repository ("<registry path name>/<repository>"): see ScopeAnswer. */
export async function releaseScope(args: { appId: string; upstreamRepository: string; license: LicensePin }): Promise<ScopeAnswer> {
  const snap = await snapshotFor(args.appId);
  const shippedIn = snap.repositories.get(args.upstreamRepository);
  if (!isPinned(args.license)) {
    if (shippedIn || snap.patterns.some((p) => matchesPattern(p, args.upstreamRepository))) return REPOSITORY;
    return OUTSIDE;
  }
  const key = `${args.upstreamRepository}\u0000${args.license.maxVersion ?? ""}\u0000${args.license.releasedBefore?.getTime() ?? ""}`;
  const known = snap.pinned.get(key);
  if (known) return known;
  let answer: ScopeAnswer;
  if (snap.patterns.some((p) => matchesPattern(p, args.upstreamRepository))) answer = REPOSITORY;
  else if (!shippedIn) answer = OUTSIDE;
  else {
    const within = shippedIn.filter((s) => releaseWithinPin(s.release, args.license));
    answer =
      within.length === 0
        ? { kind: "beyond-pin", pin: args.license }
        : {
            kind: "pinned",
            pin: args.license,
            tags: new Set(within.flatMap((s) => (s.tag === null ? [] : [s.tag]))),
            digests: new Set(within.flatMap((s) => s.digests)),
          };
  }
  // Bounded: one entry per (repository, distinct pin) asked about within a snapshot's life.
  if (snap.pinned.size < MAX_PINNED_ANSWERS) snap.pinned.set(key, answer);
  return answer;
}

/** Whether any of the repository is in scope (blobs): the repository is, whatever its tags. */
export async function isInReleaseScope(args: { appId: string; upstreamRepository: string; license: LicensePin }): Promise<boolean> {
  const answer = await releaseScope(args);
  return answer.kind === "repository" || answer.kind === "pinned";
}

/** A pin in words, for refusals: "up to 1.0.0", "published before 2026-01-31", or both. */
export function describePin(pin: LicensePin): string {
  const parts: string[] = [];
  if (pin.maxVersion !== null) parts.push(`up to ${pin.maxVersion}`);
  if (pin.releasedBefore !== null) {
    const iso = pin.releasedBefore.toISOString();
    parts.push(`published before ${iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : `${iso.slice(0, 19).replace("T", " ")} UTC`}`);
  }
  return parts.join(", ");
}

/**
 * The refusal a container client shows: what is out of reach and what to do.
 * `what` names the repository as the client wrote it (with ":tag" or "@digest").
 */
export function scopeRefusal(answer: ScopeAnswer, what: string, appName: string): string {
  if (answer.kind === "outside") return `${what} is not part of ${appName}'s releases; ask your vendor.`;
  const pin = answer.kind === "beyond-pin" || answer.kind === "pinned" ? ` (${describePin(answer.pin)})` : "";
  return `${what} is not in the releases this license may install${pin}; ask your vendor.`;
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
  const [releases, activeReleases, activeImages, activeCharts] = await Promise.all([
    db.release.count({ where: { appId: app.id } }),
    db.release.count({ where: { appId: app.id, archivedAt: null } }),
    db.releaseImage.count({ where: { appId: app.id, upstreamRepository: { not: null }, release: { archivedAt: null } } }),
    db.releaseChart.count({ where: { appId: app.id, release: { archivedAt: null } } }),
  ]);
  const patterns = parseStoredPatterns(app.extraPatterns);
  return { releases, activeReleases, patterns, allowsNothing: activeImages + activeCharts === 0 && compileStored(patterns).length === 0 };
}
