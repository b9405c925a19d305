import "server-only";
import { env } from "@/lib/env";
import { log } from "@/lib/log";
import type { TeamContext } from "@/lib/teams/access";
import { registryUsage, type RegistryUsage } from "./quota";

/**
 * What the portal shows of the registry quota (the Registry tab, team
 * Settings): the caller's team's usage against GANTRY_REGISTRY_TEAM_QUOTA_BYTES.
 * Null when Gantry's own registry is turned off.
 */
export async function teamRegistryUsage(ctx: TeamContext): Promise<RegistryUsage | null> {
  if (!env().registry.enabled) return null;
  return registryUsage(ctx.team.id);
}

/** For a page that shows more than the usage: a failure to read it is "error" (logged), not the page's. */
export async function usageOrError(ctx: TeamContext): Promise<RegistryUsage | null | "error"> {
  try {
    return await teamRegistryUsage(ctx);
  } catch (e) {
    log.error("registry usage could not be read", { teamId: ctx.team.id, error: e instanceof Error ? e.message : String(e) });
    return "error";
  }
}
