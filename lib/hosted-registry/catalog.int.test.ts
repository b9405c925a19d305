import crypto from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { acceptInvitation, inviteMember } from "@/lib/teams/invitations";
import { deleteImageTag, describePusher, listAppImages, registryCommands, registryPublicUrl } from "./catalog";

/**
 * The Registry tab's data: what was pushed to an app, listed for its team and
 * no other, and a tag deleted by owners and admins only, with an activity
 * event. Rows are created as the registry records them (records.ts).
 */
const stamp = `${Date.now().toString(36)}${crypto.randomBytes(2).toString("hex")}`;
const PASSWORD = "correct horse battery";
let n = 0;
const email = (role: string) => `catalog-${role}-${stamp}-${n++}@example.com`;
const digestOf = (s: string) => `sha256:${crypto.createHash("sha256").update(s).digest("hex")}`;

let owner: TeamContext;
let admin: TeamContext;
let member: TeamContext;
let other: TeamContext;
let app: { id: string; slug: string };
let otherApp: { id: string; slug: string };

async function joined(ownerCtx: TeamContext, role: "admin" | "member") {
  const address = email(role);
  const { user } = await signUp({ email: address, password: PASSWORD, teamName: "Own team" });
  const { invitation } = await inviteMember(ownerCtx, { email: address, role });
  await acceptInvitation(user, invitation.id);
  return teamContextForUser(user, ownerCtx.team.slug, "team:view");
}

interface Push {
  repository: string;
  tag?: string;
  digest: string;
  totalSize: bigint;
  pushedBy?: string;
  pushedAt: Date;
  mediaType?: string;
}

/** A push as the registry records it: the manifest (once per digest) and the tag. */
async function push(target: { id: string }, teamId: string, p: Push) {
  const pushedBy = p.pushedBy ?? "token:ci";
  await db.registryManifest.upsert({
    where: { appId_repository_digest: { appId: target.id, repository: p.repository, digest: p.digest } },
    create: {
      teamId,
      appId: target.id,
      repository: p.repository,
      digest: p.digest,
      mediaType: p.mediaType ?? "application/vnd.oci.image.manifest.v1+json",
      size: 500,
      totalSize: p.totalSize,
      pushedBy,
      pushedAt: p.pushedAt,
    },
    update: {},
  });
  if (p.tag) await db.registryTag.create({ data: { teamId, appId: target.id, repository: p.repository, tag: p.tag, digest: p.digest, pushedBy, pushedAt: p.pushedAt } });
}

const t0 = new Date("2026-11-20T10:00:00Z");
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

beforeAll(async () => {
  const o = await signUp({ email: email("owner"), password: PASSWORD, teamName: "Catalog Corp" });
  owner = await teamContextForUser(o.user, o.team.slug, "team:view");
  admin = await joined(owner, "admin");
  member = await joined(owner, "member");
  app = await createApp(owner, { name: "Catalog", slug: `catalog-${stamp}` });
  const b = await signUp({ email: email("other"), password: PASSWORD, teamName: "Other Corp" });
  other = await teamContextForUser(b.user, b.team.slug, "team:view");
  otherApp = await createApp(other, { name: "Other", slug: `catalog-other-${stamp}` });

  const api1 = digestOf("api 1.0");
  const api2 = digestOf("api 2.0");
  await push(app, owner.team.id, { repository: "api", tag: "1.0", digest: api1, totalSize: 1536n, pushedAt: at(0), pushedBy: `user:${"ada@example.com"}` });
  await push(app, owner.team.id, { repository: "api", tag: "latest", digest: api2, totalSize: 5n * 2n ** 30n, pushedAt: at(5) });
  await push(app, owner.team.id, { repository: "api", tag: "2.0", digest: api2, totalSize: 5n * 2n ** 30n, pushedAt: at(5) });
  await push(app, owner.team.id, {
    repository: "web",
    tag: "multi",
    digest: digestOf("web index"),
    totalSize: 3n * 2n ** 20n,
    pushedAt: at(1),
    mediaType: "application/vnd.oci.image.index.v1+json",
  });
  await push(app, owner.team.id, { repository: "tools/cli", tag: "0.1", digest: digestOf("cli"), totalSize: 42n, pushedAt: at(2) });
  // A repository whose only tag was deleted: its manifest is still there.
  await push(app, owner.team.id, { repository: "archive", digest: digestOf("archive"), totalSize: 7n, pushedAt: at(3) });
  // A tag whose manifest record is gone: listed without a size.
  await db.registryTag.create({ data: { teamId: owner.team.id, appId: app.id, repository: "web", tag: "orphan", digest: digestOf("gone"), pushedBy: "token:ci", pushedAt: at(0) } });
  await push(otherApp, other.team.id, { repository: "api", tag: "secret", digest: digestOf("other"), totalSize: 1n, pushedAt: at(9) });
});

describe("listAppImages", () => {
  it("lists repositories in name order, tags newest first (ties by name), with sizes, digests and pushers", async () => {
    const { repositories, tagCount, truncated } = await listAppImages(member, app.slug);
    expect(repositories.map((r) => r.name)).toEqual(["api", "archive", "tools/cli", "web"]);
    const api = repositories[0]!;
    expect(api.tags.map((t) => t.tag)).toEqual(["2.0", "latest", "1.0"]);
    expect(api.tags[0]).toMatchObject({ digest: digestOf("api 2.0"), size: 5 * 2 ** 30, multiPlatform: false, pushedBy: { kind: "token", name: "ci" }, pushedAt: at(5) });
    expect(api.tags[2]).toMatchObject({ size: 1536, pushedBy: { kind: "user", name: "ada@example.com" } });
    expect(repositories[1]!.tags).toEqual([]);
    expect(repositories[2]!.tags.map((t) => [t.tag, t.size])).toEqual([["0.1", 42]]);
    expect(repositories[3]!.tags.map((t) => [t.tag, t.size, t.multiPlatform])).toEqual([
      ["multi", 3 * 2 ** 20, true],
      ["orphan", null, false],
    ]);
    expect(tagCount).toBe(6);
    expect(truncated).toBe(false);
    expect(JSON.stringify(repositories)).not.toContain("secret");
  });

  it("answers NOT_FOUND for another team's app, and for an app that does not exist", async () => {
    await expect(listAppImages(other, app.slug)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(listAppImages(owner, otherApp.slug)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(listAppImages(owner, `missing-${stamp}`)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("lists nothing for an app nothing was pushed to", async () => {
    const empty = await createApp(owner, { name: "Empty", slug: `catalog-empty-${stamp}` });
    expect(await listAppImages(owner, empty.slug)).toMatchObject({ repositories: [], tagCount: 0, truncated: false });
  });
});

describe("deleteImageTag", () => {
  const tagsOf = async (repository: string) => (await listAppImages(owner, app.slug)).repositories.find((r) => r.name === repository)?.tags.map((t) => t.tag);
  const events = () => db.activityEvent.findMany({ where: { teamId: owner.team.id, action: "image.tag_deleted" }, orderBy: { createdAt: "asc" } });

  it("refuses a member (FORBIDDEN), already when resolving the permission, and deletes nothing", async () => {
    await expect(deleteImageTag(member, app.slug, "api", "1.0")).rejects.toMatchObject({ code: "FORBIDDEN" });
    const memberUser = await db.user.findFirstOrThrow({ where: { id: member.userId! } });
    await expect(teamContextForUser(memberUser, owner.team.slug, "image:delete")).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await tagsOf("api")).toEqual(["2.0", "latest", "1.0"]);
    expect(await events()).toHaveLength(0);
  });

  it("answers NOT_FOUND for another team's app, even to its owner, and leaves the tag", async () => {
    await expect(deleteImageTag(other, app.slug, "api", "1.0")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(deleteImageTag(owner, otherApp.slug, "api", "secret")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await db.registryTag.count({ where: { appId: otherApp.id, tag: "secret" } })).toBe(1);
    expect(await tagsOf("api")).toContain("1.0");
  });

  it("lets an admin delete one tag: the others and the manifest stay, and the activity log says who", async () => {
    const deleted = await deleteImageTag(admin, app.slug, "api", "latest");
    expect(deleted).toEqual({ repository: "api", tag: "latest", digest: digestOf("api 2.0") });
    expect(await tagsOf("api")).toEqual(["2.0", "1.0"]);
    expect(await db.registryManifest.count({ where: { appId: app.id, repository: "api", digest: digestOf("api 2.0") } })).toBe(1);
    const [event] = await events();
    expect(event).toMatchObject({
      actorType: "user",
      actorId: admin.userId,
      actorLabel: admin.actor.label,
      resourceType: "image",
      resourceId: `${app.slug}/api:latest`,
    });
    expect(JSON.parse(event!.metadata)).toEqual({ app: app.slug, repository: "api", tag: "latest", digest: digestOf("api 2.0") });
  });

  it("answers NOT_FOUND for a tag that is not there, or no longer", async () => {
    await expect(deleteImageTag(owner, app.slug, "api", "latest")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(deleteImageTag(owner, app.slug, "api", "nope")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(deleteImageTag(owner, app.slug, "nope", "1.0")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await events()).toHaveLength(1);
  });

  it("lets the owner delete too; of two deletes at once, one succeeds and one is refused", async () => {
    const results = await Promise.allSettled([deleteImageTag(owner, app.slug, "tools/cli", "0.1"), deleteImageTag(admin, app.slug, "tools/cli", "0.1")]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected");
    expect((refused as PromiseRejectedResult).reason).toMatchObject({ code: expect.stringMatching(/^(NOT_FOUND|CONFLICT)$/) });
    expect(await tagsOf("tools/cli")).toEqual([]);
    expect(await events()).toHaveLength(2);
  });
});

describe("the registry's address and commands", () => {
  it("uses the configured host, https unless it is loopback or has no dots, and null when not exposed", () => {
    expect(registryPublicUrl()).toEqual({ host: "registry.vendor.test", url: "https://registry.vendor.test" });
    const urls = env().urls;
    const lab = { scheme: "http" as const, host: "gantry.lab:3001", origin: "http://gantry.lab:3001" };
    expect(registryPublicUrl({ urls: { ...urls, registry: lab }, registry: { ...env().registry, enabled: true } })).toEqual({ host: "gantry.lab:3001", url: "http://gantry.lab:3001" });
    expect(registryPublicUrl({ urls: { ...urls, registry: undefined }, registry: env().registry })).toBeNull();
    expect(registryPublicUrl({ urls: { ...urls, registry: lab }, registry: { ...env().registry, enabled: false } })).toBeNull();
  });

  it("writes login and push (or pull) commands for the app's path", () => {
    expect(registryCommands("registry.vendor.test", "acme", "ada@example.com", "push").split("\n")).toEqual([
      "docker login registry.vendor.test -u ada@example.com",
      "docker tag my-image:1.0 registry.vendor.test/acme/my-image:1.0",
      "docker push registry.vendor.test/acme/my-image:1.0",
    ]);
    expect(registryCommands("r.test", "acme", "m@example.com", "pull")).toBe("docker login r.test -u m@example.com\ndocker pull r.test/acme/my-image:1.0");
  });

  it("names who pushed", () => {
    expect(describePusher("user:ada@example.com")).toEqual({ kind: "user", name: "ada@example.com" });
    expect(describePusher("token:ci:deploy")).toEqual({ kind: "token", name: "ci:deploy" });
    expect(describePusher("system")).toEqual({ kind: "other", name: "system" });
  });
});
