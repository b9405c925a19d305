import "server-only";
import { NextResponse, type NextRequest } from "next/server";
import { z } from "zod";
import { AppError, forbidden } from "@/lib/errors";
import { apiCaller } from "@/lib/http/api-auth";
import { errorBody, toAppError } from "@/lib/http/map-error";
import { log } from "@/lib/log";
import type { TeamContext } from "@/lib/teams/access";
import { can, type Permission } from "@/lib/teams/roles";

export const MAX_JSON_BODY_BYTES = 1024 * 1024;

interface RouteOptions<B extends z.ZodType | undefined, P extends z.ZodType | undefined> {
  permission: Permission;
  body?: B;
  params?: P;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

/** JSON `body` (with `status`), or a ready `response` for non-JSON answers such as files. */
export type ApiResult = { status?: number; body: unknown } | { response: NextResponse };

/**
 * Wraps a /api/v1 route handler: rate limit per client address → bearer token
 * → rate limit per token → team → permission → JSON body and params through
 * zod → call → one error mapper. Errors are always
 * `{ error: { code, message, fields? } }` with the status of their code.
 * Responses are never stored by caches: some carry license IDs or license files.
 */
export function apiRoute<B extends z.ZodType | undefined = undefined, P extends z.ZodType | undefined = undefined>(
  options: RouteOptions<B, P>,
  handler: (ctx: TeamContext, input: { body: Parsed<B>; params: Parsed<P>; request: NextRequest }) => Promise<ApiResult>,
) {
  return async function route(request: NextRequest, segment: { params: Promise<Record<string, string | string[]>> }) {
    try {
      const ctx = await apiCaller(request.headers);
      if (!can(ctx.role, options.permission)) throw forbidden();
      const params = (options.params ? options.params.parse(await segment.params) : undefined) as Parsed<P>;
      const body = (options.body ? options.body.parse(await readJson(request)) : undefined) as Parsed<B>;
      const result = await handler(ctx, { body, params, request });
      if ("response" in result) return noStore(result.response);
      if (result.status === 204) return noStore(new NextResponse(null, { status: 204 }));
      return noStore(NextResponse.json(result.body, { status: result.status ?? 200 }));
    } catch (e) {
      return noStore(errorResponse(toAppError(e, { route: request.nextUrl.pathname, method: request.method })));
    }
  };
}

function noStore(res: NextResponse): NextResponse {
  res.headers.set("Cache-Control", "no-store");
  return res;
}

/** An error as the API answers it, logged (with the request's id) so the id in its body finds it. */
export function errorResponse(err: AppError): NextResponse {
  // Unexpected errors were logged with their cause by toAppError.
  if (err.code !== "INTERNAL") log.info("api error", { status: err.status, code: err.code, message: err.message });
  const res = NextResponse.json(errorBody(err), { status: err.status });
  if (err.code === "UNAUTHENTICATED") res.headers.set("WWW-Authenticate", 'Bearer realm="gantry-api"');
  if (err.retryAfterSeconds) res.headers.set("Retry-After", String(err.retryAfterSeconds));
  return res;
}

async function readJson(request: NextRequest): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/(.+\+)?json\b/i.test(type)) throw new AppError("BAD_REQUEST", "Send a JSON body with Content-Type: application/json.");
  const length = Number(request.headers.get("content-length") ?? "0");
  if (length > MAX_JSON_BODY_BYTES) throw new AppError("PAYLOAD_TOO_LARGE", `The body is over ${MAX_JSON_BODY_BYTES} bytes.`);
  const text = await request.text();
  if (text.length > MAX_JSON_BODY_BYTES) throw new AppError("PAYLOAD_TOO_LARGE", `The body is over ${MAX_JSON_BODY_BYTES} bytes.`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError("BAD_REQUEST", "The body is not valid JSON.");
  }
}
