import "server-only";
import { authenticateApiToken } from "@/lib/api-tokens/tokens";
import { env } from "@/lib/env";
import { unauthenticated } from "@/lib/errors";
import { clientIpFromHeaders } from "@/lib/net/client-ip";
import { enforceLimit, ipKey } from "@/lib/rate-limit/limits";
import type { TeamContext } from "@/lib/teams/access";
import { isRole } from "@/lib/teams/roles";

/**
 * The vendor API's caller from request headers: rate limit per client address
 * (counted before the token is checked, so guessing tokens is limited too) →
 * bearer token → rate limit per token. Shared by the API's route handlers
 * (api-route.ts) and the downloads served beside Next (lib/airgap/http.ts).
 */
export async function apiCaller(headers: Headers): Promise<TeamContext> {
  const limits = env().rateLimits;
  await enforceLimit(`api:ip:${ipKey(clientIpFromHeaders(headers))}`, limits.apiPerIp, 60, "API requests from your address");
  const ctx = await authenticate(headers);
  await enforceLimit(`api:token:${ctx.actor.id}`, limits.apiPerToken, 60, "requests with this API token");
  return ctx;
}

async function authenticate(headers: Headers): Promise<TeamContext> {
  const header = headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) throw unauthenticated("Send a team API token as `Authorization: Bearer <token>`.");
  const token = await authenticateApiToken(match[1]);
  if (!token) throw unauthenticated("The API token is invalid or has been revoked.");
  // token.role is already the effective role (the lesser of the token's role and its creator's
  // current role, see authenticateApiToken); capped at admin again here, failing closed to member.
  const role = isRole(token.role) && token.role !== "owner" ? token.role : "member";
  return {
    team: token.team,
    role,
    actor: { type: "api_token", id: token.id, label: `API token "${token.name}"` },
    userId: null,
    ip: clientIpFromHeaders(headers),
  };
}
