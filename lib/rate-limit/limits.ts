import "server-only";
import { AppError } from "@/lib/errors";
import { clientKey } from "@/lib/net/client-ip";
import { hit } from "./fixed-window";

/**
 * Request limits for the portal and the API, counted in the database (shared by
 * every instance). Each check counts the request first (one atomic upsert),
 * so a parallel burst cannot get more than the limit through. Over the limit:
 * AppError RATE_LIMITED, which the API answers as 429 with Retry-After and the
 * documented error body.
 */
export async function enforceLimit(key: string, limit: number, windowSeconds: number, what: string): Promise<void> {
  const state = await hit(key, limit, windowSeconds);
  if (state.limited) {
    throw new AppError("RATE_LIMITED", `Too many ${what}: at most ${limit} every ${windowLabel(windowSeconds)}. Try again in ${state.retryAfterSeconds} s.`, {
      retryAfterSeconds: state.retryAfterSeconds,
    });
  }
}

/** The rate-limit key of a client address (IPv6 by /64); "unknown" when there is none. */
export const ipKey = (ip: string | null) => clientKey(ip) ?? "unknown";

function windowLabel(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? "hour" : `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? "minute" : `${seconds / 60} minutes`;
  return `${seconds} s`;
}
