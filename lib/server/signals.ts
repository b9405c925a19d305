import { flushCacheUsage } from "../cache/usage";
import { flushPulls } from "../proxy/pull-log";
import type { GantryHttpServer } from "./http-server";
import { gracefulShutdown } from "./shutdown";

/**
 * SIGTERM/SIGINT: the graceful stop of lib/server/shutdown.ts, then exit 0. A
 * second signal while draining exits at once (1).
 */
export function installSignalHandlers(
  gantry: GantryHttpServer,
  graceMs: number,
  beforeStop: () => void = () => {},
  /** After the drain: stop child processes (the registry's storage engine). */
  afterDrain: () => Promise<unknown> = () => Promise.resolve(),
): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      console.log(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    beforeStop();
    console.log(`${signal}: draining (up to ${graceMs / 1000} s for requests in flight)`);
    void gracefulShutdown({
      ...gantry,
      graceMs,
      // Pull records and cache counters are written in batches: write what is pending.
      flush: () => Promise.allSettled([flushPulls(), flushCacheUsage()]),
    })
      .then(async (r) => {
        await afterDrain().catch((e: unknown) => console.error("stopping the registry's storage failed", e));
        return r;
      })
      .then(
      (r) => {
        console.log(`stopped${r.cut ? ` (${r.cut} request(s) cut at the deadline)` : ""} after ${r.ms} ms`);
        process.exit(0);
      },
      (e: unknown) => {
        console.error("shutdown failed", e);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
