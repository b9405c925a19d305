import "server-only";
import crypto from "node:crypto";
import { z } from "zod";
import { db } from "@/lib/db";
import { notFound } from "@/lib/errors";
import { recordActivity } from "@/lib/activity/record";
import type { TeamContext } from "@/lib/teams/access";

/** `gnt_` + 256 random bits, base64url. Recognisable in logs and secret scanners. */
export const TOKEN_PREFIX = "gnt_";

/** Tokens act as an admin (can change things) or as a member (read-only); never as an owner. */
export const TOKEN_ROLES = ["admin", "member"] as const;

export const createTokenSchema = z.object({
  name: z.string().trim().min(1, "Give the token a name.").max(60, "At most 60 characters."),
  role: z.enum(TOKEN_ROLES, { message: "Choose admin or member." }).default("admin"),
});

export function hashToken(token: string): string {
  return crypto.createHash("sha256").update(token, "utf8").digest("hex");
}

export function generateToken(): string {
  return `${TOKEN_PREFIX}${crypto.randomBytes(32).toString("base64url")}`;
}

/** Creates a token; the plaintext is returned once and never stored. */
export async function createApiToken(ctx: TeamContext, input: z.input<typeof createTokenSchema>) {
  const { name, role } = createTokenSchema.parse(input);
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
      },
      select: { id: true, name: true, role: true, prefix: true, createdAt: true },
    });
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "api_token.created",
      resourceType: "api_token",
      resourceId: created.id,
      metadata: { name, role },
      ip: ctx.ip,
    });
    return created;
  });
  return { ...row, token };
}

export function listApiTokens(teamId: string) {
  return db.apiToken.findMany({
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
      createdBy: { select: { email: true } },
    },
  });
}

export async function revokeApiToken(ctx: TeamContext, tokenId: string) {
  const token = await db.apiToken.findFirst({ where: { id: tokenId, teamId: ctx.team.id }, select: { id: true, name: true, revokedAt: true } });
  if (!token) throw notFound("API token");
  if (token.revokedAt) return token;
  return db.$transaction(async (tx) => {
    const updated = await tx.apiToken.update({ where: { id: token.id }, data: { revokedAt: new Date() }, select: { id: true, name: true, revokedAt: true } });
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
 * Resolves `Authorization: Bearer …` to a live token and its team, or null.
 * lastUsedAt is refreshed at most once a minute to keep reads cheap.
 */
export async function authenticateApiToken(token: string) {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
  const row = await db.apiToken.findUnique({
    where: { tokenHash: hashToken(token) },
    select: { id: true, name: true, role: true, revokedAt: true, lastUsedAt: true, team: { select: { id: true, name: true, slug: true } } },
  });
  if (!row || row.revokedAt) return null;
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
    await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } });
  }
  return row;
}
