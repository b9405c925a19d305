import "server-only";
import { db } from "@/lib/db";
import { env, type Env } from "@/lib/env";
import { AppError, forbidden, notFound } from "@/lib/errors";
import { recordActivity } from "@/lib/activity/record";
import type { TeamContext } from "@/lib/teams/access";
import { can } from "@/lib/teams/roles";
import { INDEX_TYPES } from "./records";

/**
 * What the portal shows of an app's images in Gantry's own registry (the
 * Registry tab): repositories and their tags, read from the records the
 * registry keeps (records.ts), scoped to the caller's team; and deleting a tag.
 */

/** Most tags the tab lists per app, newest pushes first; `truncated` says when there were more. */
export const TAGS_SHOWN_MAX = 500;

/** Who pushed, from the registry's record ("user:<email>" / "token:<name>"). */
export type Pusher = { kind: "user" | "token"; name: string } | { kind: "other"; name: string };

export function describePusher(pushedBy: string): Pusher {
  const m = /^(user|token):(.+)$/.exec(pushedBy);
  if (m?.[1] === "user" || m?.[1] === "token") return { kind: m[1], name: m[2] ?? "" };
  return { kind: "other", name: pushedBy };
}

/**
 * The registry's public address (GANTRY_REGISTRY_URL, or GANTRY_REGISTRY_PORT
 * on the listen address), or null when it is not exposed or turned off.
 */
export function registryPublicUrl(config: Pick<Env, "urls" | "registry"> = env()): { host: string; url: string } | null {
  const url = config.registry.enabled ? config.urls.registry : undefined;
  return url ? { host: url.host, url: url.origin } : null;
}

/**
 * The commands a vendor runs to push an image of the app (or, for a role that
 * may only pull, to pull one), for the tab's copyable snippet.
 */
export function registryCommands(host: string, appSlug: string, email: string, mode: "push" | "pull"): string {
  const image = `${host}/${appSlug}/my-image:1.0`;
  const login = `docker login ${host} -u ${email}`;
  if (mode === "pull") return [login, `docker pull ${image}`].join("\n");
  return [login, `docker tag my-image:1.0 ${image}`, `docker push ${image}`].join("\n");
}

async function appInTeam(ctx: TeamContext, appSlug: string) {
  const app = await db.app.findFirst({ where: { teamId: ctx.team.id, slug: appSlug }, select: { id: true, slug: true, name: true } });
  if (!app) throw notFound("App");
  return app;
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The app's repositories (byte order of their names), each with its tags,
 * newest push first (ties by tag name), with the size of what the tag points
 * at (manifest + config + layers; for an index, the platforms Gantry knows).
 * A repository whose tags were all deleted is listed with none. Another
 * team's app is NOT_FOUND.
 */
export async function listAppImages(ctx: TeamContext, appSlug: string) {
  const app = await appInTeam(ctx, appSlug);
  const [rows, tagCount, manifestRepos] = await Promise.all([
    db.registryTag.findMany({
      where: { appId: app.id, teamId: ctx.team.id },
      orderBy: [{ pushedAt: "desc" }, { id: "asc" }],
      take: TAGS_SHOWN_MAX,
      select: { repository: true, tag: true, digest: true, pushedBy: true, pushedAt: true },
    }),
    db.registryTag.count({ where: { appId: app.id, teamId: ctx.team.id } }),
    db.registryManifest.groupBy({ by: ["repository"], where: { appId: app.id, teamId: ctx.team.id } }),
  ]);
  const manifests = rows.length
    ? await db.registryManifest.findMany({
        where: { appId: app.id, digest: { in: [...new Set(rows.map((r) => r.digest))] } },
        select: { repository: true, digest: true, totalSize: true, mediaType: true },
      })
    : [];
  const manifestOf = new Map(manifests.map((m) => [`${m.repository}@${m.digest}`, m]));
  const present = (r: (typeof rows)[number]) => {
    const m = manifestOf.get(`${r.repository}@${r.digest}`);
    return {
      tag: r.tag,
      digest: r.digest,
      /** Bytes, or null when the manifest's record is gone. */
      size: m ? Number(m.totalSize) : null,
      multiPlatform: m ? INDEX_TYPES.has(m.mediaType) : false,
      pushedBy: describePusher(r.pushedBy),
      pushedAt: r.pushedAt,
    };
  };
  const repositories = new Map<string, { name: string; tags: ReturnType<typeof present>[] }>();
  for (const name of [...manifestRepos.map((r) => r.repository), ...rows.map((r) => r.repository)]) {
    if (!repositories.has(name)) repositories.set(name, { name, tags: [] });
  }
  for (const r of rows) repositories.get(r.repository)?.tags.push(present(r));
  const list = [...repositories.values()].sort((a, b) => byteOrder(a.name, b.name));
  for (const repo of list) repo.tags.sort((a, b) => b.pushedAt.getTime() - a.pushedAt.getTime() || byteOrder(a.tag, b.tag));
  return { app, repositories: list, tagCount, truncated: tagCount > rows.length };
}

export type AppImages = Awaited<ReturnType<typeof listAppImages>>;

/**
 * Deletes one tag of the app's repository (the manifest stays, reachable by
 * digest, until garbage collection). Owners and admins only; another team's
 * app, or a tag that is not there, is NOT_FOUND; a tag that changed between
 * the read and the delete (another push, another delete) is CONFLICT.
 */
export async function deleteImageTag(ctx: TeamContext, appSlug: string, repository: string, tag: string) {
  if (!can(ctx.role, "image:delete")) throw forbidden();
  const app = await appInTeam(ctx, appSlug);
  return db.$transaction(async (tx) => {
    const gone = await tx.registryTag.findUnique({ where: { appId_repository_tag: { appId: app.id, repository, tag } }, select: { id: true, digest: true } });
    if (!gone) throw notFound("Tag");
    // Conditional on the digest read above: a tag pushed again meanwhile is not deleted unseen.
    const { count } = await tx.registryTag.deleteMany({ where: { id: gone.id, digest: gone.digest } });
    if (count !== 1) throw new AppError("CONFLICT", "The tag changed meanwhile (pushed again or deleted). Reload and try again.");
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "image.tag_deleted",
      resourceType: "image",
      resourceId: `${app.slug}/${repository}:${tag}`,
      metadata: { app: app.slug, repository, tag, digest: gone.digest },
      ip: ctx.ip,
    });
    return { repository, tag, digest: gone.digest };
  });
}
