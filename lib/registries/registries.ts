import "server-only";
import crypto from "node:crypto";
import { db } from "@/lib/db";
import { forgetRegistryLookups } from "./by-path";
import { env } from "@/lib/env";
import { AppError, notFound } from "@/lib/errors";
import { recordActivity } from "@/lib/activity/record";
import { deleteSecrets, loadSecret, storeSecret } from "@/lib/secrets/store";
import type { TeamContext } from "@/lib/teams/access";
import { EndpointError, normalizeEndpoint } from "./endpoint";
import { parseCloudConfig, resolveKind } from "./kinds";
import { createRegistrySchema, updateRegistrySchema, type CreateRegistryInput, type RegistryKind, type UpdateRegistryInput } from "./schema";

export const PASSWORD_PURPOSE = "registry.password";

/** What leaves the server about a registry: never a secret. */
export const PUBLIC_REGISTRY_FIELDS = {
  id: true,
  name: true,
  endpoint: true,
  apiHost: true,
  imageHost: true,
  pathName: true,
  kind: true,
  username: true,
  cloudConfig: true,
  createdAt: true,
  updatedAt: true,
  lastTestedAt: true,
  lastTestOutcome: true,
  lastTestMessage: true,
} as const;

export type PublicRegistry = Awaited<ReturnType<typeof listRegistries>>[number];

type Row = { kind: string; cloudConfig: string | null } & Record<string, unknown>;

/** The row as it leaves the server: the kind's settings parsed (never a secret). */
function toPublic<T extends Row>(row: T) {
  const { cloudConfig, ...rest } = row;
  return { ...rest, kind: row.kind as RegistryKind, cloud: row.kind === "basic" ? null : parseCloudConfig(cloudConfig) };
}

function endpointOrFieldError(input: string) {
  try {
    return normalizeEndpoint(input, env().allowedPrivateHosts);
  } catch (e) {
    if (e instanceof EndpointError) throw new AppError("VALIDATION", e.message, { fields: { endpoint: [e.message] } });
    throw e;
  }
}

async function assertPathNameFree(teamId: string, pathName: string, exceptId?: string) {
  const clash = await db.registry.findFirst({ where: { teamId, pathName, ...(exceptId ? { id: { not: exceptId } } : {}) }, select: { name: true } });
  if (clash) {
    const message = `Registry "${clash.name}" already uses the path name "${pathName}". Choose another path name.`;
    throw new AppError("CONFLICT", message, { fields: { pathName: [message] } });
  }
}

export async function listRegistries(teamId: string) {
  const rows = await db.registry.findMany({ where: { teamId }, orderBy: [{ name: "asc" }, { createdAt: "asc" }], select: PUBLIC_REGISTRY_FIELDS });
  return rows.map(toPublic);
}

/** A team's registry, or NOT_FOUND (also for another team's id). */
export async function getRegistry(teamId: string, id: string) {
  return toPublic(await getRegistryRow(teamId, id));
}

/** The row itself (the kind's settings unparsed), for server code that builds clients. */
export async function getRegistryRow(teamId: string, id: string) {
  const r = await db.registry.findFirst({ where: { id, teamId }, select: PUBLIC_REGISTRY_FIELDS });
  if (!r) throw notFound("Registry");
  return r;
}

export async function createRegistry(ctx: TeamContext, input: CreateRegistryInput) {
  const data = createRegistrySchema.parse(input);
  const ep = endpointOrFieldError(data.endpoint);
  const kind = resolveKind(data.kind ?? "basic", data, { apiHost: ep.apiHost, ambientAllowed: env().cloud.ambientCredentials });
  const pathName = data.pathName ?? ep.defaultPathName;
  await assertPathNameFree(ctx.team.id, pathName);
  // The id is chosen first so the secret's associated data can name its row.
  const id = `reg_${crypto.randomBytes(12).toString("hex")}`;
  return db.$transaction(async (tx) => {
    const registry = toPublic(
      await tx.registry.create({
        data: {
          id,
          teamId: ctx.team.id,
          name: data.name,
          endpoint: ep.endpoint,
          apiHost: ep.apiHost,
          imageHost: ep.imageHost,
          pathName,
          kind: kind.kind,
          username: kind.username,
          cloudConfig: kind.cloudConfig,
        },
        select: PUBLIC_REGISTRY_FIELDS,
      }),
    );
    if (kind.secret !== undefined) await storeSecret(tx, { teamId: ctx.team.id, resourceId: id, purpose: PASSWORD_PURPOSE }, kind.secret);
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "registry.created",
      resourceType: "registry",
      resourceId: id,
      metadata: { name: registry.name, endpoint: registry.endpoint, kind: registry.kind, username: registry.username },
      ip: ctx.ip,
    });
    return registry;
  });
}

/** What a basic registry's edit hears when the endpoint moves without the password (kinds.ts builds it the same way for every kind's secret). */
export const PASSWORD_AGAIN_MESSAGE = "Enter the password again: the endpoint's scheme, host or port changed.";
const SECRET_AGAIN_ENDPOINT = "the endpoint's scheme, host or port changed";
const SECRET_AGAIN_KIND = "the registry's kind changed";

/** scheme://host:port of a normalized endpoint, with the scheme's default port dropped. */
function origin(endpoint: string): string {
  return new URL(endpoint).origin;
}

/**
 * Changes a registry. The stored password is kept unless a new one is given,
 * except when the endpoint moves to another scheme, host or port: then the
 * password must come in the same request, so nobody with edit rights (or an
 * admin's leaked token) can point the registry at their own host and have
 * Test connection or the proxy send it the stored password.
 */
export async function updateRegistry(ctx: TeamContext, id: string, input: UpdateRegistryInput) {
  const current = await getRegistryRow(ctx.team.id, id);
  const data = updateRegistrySchema.parse(input);
  const ep = data.endpoint !== undefined ? endpointOrFieldError(data.endpoint) : undefined;
  const nextKind = data.kind ?? (current.kind as RegistryKind);
  const kindChanged = nextKind !== current.kind;
  const moved = ep !== undefined && origin(ep.endpoint) !== origin(current.endpoint);
  const kind = resolveKind(nextKind, data, {
    apiHost: ep?.apiHost ?? current.apiHost,
    ambientAllowed: env().cloud.ambientCredentials,
    current: kindChanged ? undefined : current,
    secretAgain: kindChanged ? SECRET_AGAIN_KIND : moved ? SECRET_AGAIN_ENDPOINT : undefined,
  });
  const pathName = data.pathName ?? current.pathName;
  if (pathName !== current.pathName) await assertPathNameFree(ctx.team.id, pathName, id);
  const changed: string[] = [];
  if (data.name !== undefined && data.name !== current.name) changed.push("name");
  if (ep && ep.endpoint !== current.endpoint) changed.push("endpoint");
  if (kindChanged) changed.push("kind");
  if (kind.username !== current.username) changed.push("username");
  if (kind.cloudConfig !== current.cloudConfig) changed.push("settings");
  if (pathName !== current.pathName) changed.push("pathName");
  if (kind.secret !== undefined || kind.dropSecret) changed.push(nextKind === "basic" ? "password" : "secret");
  const credentialsChanged = changed.some((f) => ["endpoint", "kind", "username", "settings", "password", "secret"].includes(f));
  const updated = await db.$transaction(async (tx) => {
    // Conditional on the endpoint the password check above saw, so a concurrent move cannot slip past it.
    const registry = await tx.registry.update({
      where: { id, endpoint: current.endpoint, kind: current.kind },
      data: {
        name: data.name,
        kind: kind.kind,
        username: kind.username,
        cloudConfig: kind.cloudConfig,
        pathName,
        ...(ep ? { endpoint: ep.endpoint, apiHost: ep.apiHost, imageHost: ep.imageHost } : {}),
        // A new endpoint or credentials make the last test result stale.
        ...(credentialsChanged ? { lastTestedAt: null, lastTestOutcome: null, lastTestMessage: null } : {}),
      },
      select: PUBLIC_REGISTRY_FIELDS,
    }).catch((e: unknown) => {
      if (isRecordNotFound(e)) throw new AppError("CONFLICT", "The registry was changed meanwhile. Reload it and try again.");
      throw e;
    });
    if (kind.secret !== undefined) await storeSecret(tx, { teamId: ctx.team.id, resourceId: id, purpose: PASSWORD_PURPOSE }, kind.secret);
    else if (kind.dropSecret) await deleteSecrets(tx, ctx.team.id, id);
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "registry.updated",
      resourceType: "registry",
      resourceId: id,
      metadata: { name: registry.name, changed: changed.join(",") || "nothing" },
      ip: ctx.ip,
    });
    return toPublic(registry);
  });
  forgetRegistryLookups(); // the proxy's next request uses the new endpoint or credentials
  return updated;
}

function isRecordNotFound(e: unknown): boolean {
  return typeof e === "object" && e !== null && "code" in e && (e as { code: unknown }).code === "P2025";
}

export async function deleteRegistry(ctx: TeamContext, id: string) {
  const current = await getRegistry(ctx.team.id, id);
  await db.$transaction(async (tx) => {
    await deleteSecrets(tx, ctx.team.id, id);
    await tx.registry.delete({ where: { id } });
    await recordActivity(tx, {
      teamId: ctx.team.id,
      actor: ctx.actor,
      action: "registry.deleted",
      resourceType: "registry",
      resourceId: id,
      metadata: { name: current.name, endpoint: current.endpoint },
      ip: ctx.ip,
    });
  });
  forgetRegistryLookups();
  return current;
}

/** The registry's credentials, decrypted in memory for one request. */
export async function registryCredentials(teamId: string, registry: { id: string; username: string }) {
  return { username: registry.username, password: await loadSecret({ teamId, resourceId: registry.id, purpose: PASSWORD_PURPOSE }) };
}
