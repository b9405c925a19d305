import "server-only";
import { AppError, type ErrorCode } from "@/lib/errors";
import { toAppError } from "@/lib/http/map-error";
import { ProxyError } from "@/lib/proxy/errors";

const CODES: Record<number, ErrorCode> = { 400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND", 416: "BAD_REQUEST", 429: "RATE_LIMITED", 502: "BAD_GATEWAY", 503: "UNAVAILABLE", 504: "BAD_GATEWAY" };

/**
 * A bundle reads registries, so its failures are often a registry's (a
 * ProxyError: upstream down, a lying manifest, Gantry's storage restarting):
 * those keep their status and words for the API and the pages; anything
 * else goes through the one mapper.
 */
export function bundleError(e: unknown, context: Record<string, unknown>): AppError {
  if (e instanceof ProxyError) return new AppError(CODES[e.status] ?? "BAD_GATEWAY", e.message);
  return toAppError(e, context);
}
