import { AsyncLocalStorage } from "node:async_hooks";
import { processWide } from "@/lib/process-wide";

/**
 * The request a piece of code runs for: its id (returned in X-Request-Id, put
 * in error bodies and on every log line, lib/log.ts) and the face it came in
 * on. Entered where a request enters Gantry (lib/server/http-server.ts) and
 * carried by Node through every continuation the request starts: awaits,
 * undici callbacks, timers, Next's handler (pages, actions, /api).
 *
 * One store per process (processWide): Next's bundle has its own copy of this
 * module, and its log lines must see the store the server entered.
 */
export type Face = "portal" | "api" | "proxy" | "registry" | "health";

export interface RequestContext {
  readonly id: string;
  /** Set where the request enters; a custom domain's lookup may change it to "registry" (metrics read it when the response closes). */
  face: Face;
}

const storage = processWide("request-context", () => new AsyncLocalStorage<RequestContext>());

export const REQUEST_ID_HEADER = "x-request-id";

/** Runs `fn` as part of the request `ctx`. */
export function withRequest<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** Runs `fn` outside any request: timers it starts (batch flushes, shared work) belong to no request. */
export function outsideRequest<T>(fn: () => T): T {
  return storage.exit(fn);
}

export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.id;
}
