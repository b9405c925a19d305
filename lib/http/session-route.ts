import "server-only";
import { type NextRequest } from "next/server";
import { forbidden, unauthenticated } from "@/lib/errors";
import { env } from "@/lib/env";
import { currentUser } from "@/lib/auth/session";
import { clientIpFromHeaders } from "@/lib/net/client-ip";
import { toAppError } from "@/lib/http/map-error";
import { errorResponse } from "@/lib/http/api-route";
import { crossOriginProblem } from "@/lib/http/same-origin";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import type { Permission } from "@/lib/teams/roles";

/**
 * Wraps a portal route handler under /t/[team]/… (downloads): session → team
 * membership and permission → call → the same error mapper as the API.
 * Another team's slug is 404. State-changing methods (POST, PUT, PATCH,
 * DELETE) must come from Gantry's own pages: a missing or foreign `Origin` is
 * 403 FORBIDDEN before the session is even looked at (see lib/http/same-origin).
 */
export function sessionRoute<P extends { team: string }>(
  permission: Permission,
  handler: (ctx: TeamContext, params: P, request: NextRequest) => Promise<Response>,
) {
  return async function route(request: NextRequest, segment: { params: Promise<P> }): Promise<Response> {
    try {
      const problem = crossOriginProblem(request.method, request.headers, env().trustProxy);
      if (problem) throw forbidden(problem);
      const user = await currentUser();
      if (!user) throw unauthenticated();
      const params = await segment.params;
      const ctx = await teamContextForUser(user, params.team, permission, clientIpFromHeaders(request.headers));
      return await handler(ctx, params, request);
    } catch (e) {
      return errorResponse(toAppError(e, { route: request.nextUrl.pathname }));
    }
  };
}
