import "server-only";
import crypto from "node:crypto";
import { z } from "zod";
import { db } from "@/lib/db";
import { forbidden, notFound } from "@/lib/errors";
import { recordActivity } from "@/lib/activity/record";
import type { TeamContext } from "@/lib/teams/access";
import { isRole, type Role } from "@/lib/teams/roles";

/** `gnt_` + 256 random bits, base64url. Recognisable in logs and secret scanners. */
export const TOKEN_PREFIX = "gnt_";

/** Tokens act as an admin (can change things) or as a member (read-only); never as an owner. */
export const TOKEN_ROLES = ["admin", "member"] as const;

/** The longest expiry a token can be created with (about five years). */
export const MAX_EXPIRY_DAYS = 1825;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Lower rank, fewer rights: a token never acts above its creator's current role. */
const RANK: Record<Role, number> = { member: 0, admin: 1, owner: 2 };
const lesserRole = (a: Role, b: Role): Role => (RANK[a] <= RANK[b] ? a : b);

export const createTokenSchema = z.object({
  name: z.string().trim().min(1, "Give the token a name.").max(60, "At most 60 characters."),
  role: z.enum(TOKEN_ROLES, { message: "Choose admin or member." }).default("admin"),
  // Optional: an empty form field means "never expires".
  expiresInDays: z.preprocess(
    (v) => (v === "" || v === null ? undefined : v),
    z.coerce
      .number({ message: "Enter a number of days." })
      .int("Enter a whole number of days.")
      .min(1, "At least 1 day.")
      .max(MAX_EXPIRY_DAYS, `At most ${MAX_EXPIRY_DAYS} days.`)
      .optional(),
  ),
});

export function hashToken(token: string): string {
  return crypto.createHash("sha256").update(token, "utf8").digest("hex");
}

export function generateToken(): string {
  return `${TOKEN_PREFIX}${crypto.randomBytes(32).toString("base64url")}`;
}

/**
 * Creates a token; the plaintext is returned once and never stored. A token
 * belongs to the member who creates it (the UI and the CLI both act as one):
 * it works only while they are in the team, and never above their role.
 */
export async function createApiToken(ctx: TeamContext, input: z.input<typeof createTokenSchema>) {
  const { name, role, expiresInDays } = createTokenSchema.parse(input);
  // A token cannot mint tokens: without a creating user it would outlive everyone's membership.
  if (!ctx.userId) throw forbidden("API tokens are created by a signed-in member.");
  const expiresAt = expiresInDays ? new Date(Date.now() + expiresInDays * DAY_MS) : null;
  const token = generateToken();
  const row = await db.$transaction(async (tx) => {
    const created = await tx.apiToken.create({
      data: {
        teamId: ctx.team.id,
        name,
        role,
        prefix: token.slice(0, TOKEN_PREFIX.length + 6),
        tokenHash: hashToken(token),
        createdById: ctx.userId,
        expiresAt,
      },
      select: { id: true, name: true, role: true, prefix: true, createdAt: true, expiresAt: true },
    });
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "api_token.created",
      resourceType: "api_token",
      resourceId: created.id,
      metadata: { name, role, expiresAt: expiresAt?.toISOString() ?? null },
      ip: ctx.ip,
    });
    return created;
  });
  return { ...row, token };
}

/**
 * The team's tokens, with whether each still works: `creatorRole` is the
 * creator's current role in this team (null once they left or were removed).
 */
export async function listApiTokens(teamId: string, now = new Date()) {
  const rows = await db.apiToken.findMany({
    where: { teamId },
    orderBy: [{ revokedAt: { sort: "asc", nulls: "first" } }, { createdAt: "desc" }],
    select: {
      id: true,
      name: true,
      role: true,
      prefix: true,
      createdAt: true,
      lastUsedAt: true,
      revokedAt: true,
      expiresAt: true,
      createdBy: { select: { email: true, memberships: { where: { teamId }, select: { role: true } } } },
    },
  });
  return rows.map(({ createdBy, ...t }) => ({
    ...t,
    createdBy: createdBy ? { email: createdBy.email } : null,
    creatorRole: createdBy?.memberships[0]?.role ?? null,
    expired: t.expiresAt !== null && t.expiresAt <= now,
  }));
}

export async function revokeApiToken(ctx: TeamContext, tokenId: string) {
  const token = await db.apiToken.findFirst({ where: { id: tokenId, teamId: ctx.team.id }, select: { id: true, name: true, revokedAt: true } });
  if (!token) throw notFound("API token");
  if (token.revokedAt) return token;
  return db.$transaction(async (tx) => {
    // Conditional on "not revoked yet": of two concurrent revokes, one writes and logs; the other returns the token as it is.
    const { count } = await tx.apiToken.updateMany({ where: { id: token.id, teamId: ctx.team.id, revokedAt: null }, data: { revokedAt: new Date() } });
    const updated = await tx.apiToken.findUniqueOrThrow({ where: { id: token.id }, select: { id: true, name: true, revokedAt: true } });
    if (count !== 1) return updated;
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "api_token.revoked",
      resourceType: "api_token",
      resourceId: token.id,
      metadata: { name: token.name },
      ip: ctx.ip,
    });
    return updated;
  });
}

/**
 * Resolves `Authorization: Bearer …` to a live token, its team and the role it
 * acts with, or null. A token is dead once revoked, once expired, and once its
 * creator is no longer a member of the token's team (left, removed, account
 * deleted: createdById is then null). `role` is the effective role: the lesser
 * of the token's own role and its creator's current role, so an admin token of
 * a creator demoted to member is read-only; never owner.
 * lastUsedAt is refreshed at most once a minute to keep reads cheap.
 */
export async function authenticateApiToken(token: string, now = new Date()) {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
  return resolveApiToken({ tokenHash: hashToken(token) }, now);
}

/**
 * The same checks for a token known by its row ID: what a registry token
 * (lib/hosted-registry) carries instead of the secret, re-checked on use so a
 * revoked token, or a creator who left, stops working at once.
 */
export async function apiTokenById(id: string, now = new Date()) {
  return resolveApiToken({ id }, now);
}

async function resolveApiToken(where: { tokenHash: string } | { id: string }, now: Date) {
  const row = await db.apiToken.findUnique({
    where,
    select: {
      id: true,
      name: true,
      role: true,
      teamId: true,
      createdById: true,
      revokedAt: true,
      expiresAt: true,
      lastUsedAt: true,
      team: { select: { id: true, name: true, slug: true } },
    },
  });
  if (!row || row.revokedAt) return null;
  if (row.expiresAt && row.expiresAt <= now) return null;
  // Every creation path records a user (createApiToken refuses without one), so a
  // null creator means the account was deleted: the token goes with it.
  if (!row.createdById) return null;
  const creator = await db.membership.findUnique({
    where: { teamId_userId: { teamId: row.teamId, userId: row.createdById } },
    select: { role: true },
  });
  if (!creator || !isRole(creator.role)) return null;
  // Anything unexpected in the token's own role acts as a read-only member.
  const tokenRole: Role = row.role === "admin" ? "admin" : "member";
  const role = lesserRole(tokenRole, creator.role);
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } });
  }
  return { id: row.id, name: row.name, team: row.team, tokenRole, role };
}
