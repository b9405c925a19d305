import type http from "node:http";
import { log } from "../log";
import { errorDetail } from "../proxy/errors";
import type { Health } from "./health";

/**
 * Counts the requests being served (health probes excepted) so a shutdown can
 * wait for them. A request counts until its response closes (sent in full, or
 * the client went away).
 */
export class Inflight {
  private count = 0;
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.count;
  }

  track(res: http.ServerResponse): void {
    this.count++;
    res.once("close", () => {
      this.count--;
      // After the other "close" listeners (the proxy records the pull in one): a
      // flush that follows must see that record.
      if (this.count === 0) setImmediate(() => this.wake());
    });
  }

  /** Resolves once nothing is in flight. */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    if (this.count !== 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

export interface ShutdownOptions {
  server: http.Server;
  /** The registry's own port (GANTRY_REGISTRY_PORT), drained the same way. */
  registryServer?: http.Server | null;
  health: Health;
  inflight: Inflight;
  /** How long in-flight requests may take to finish (GANTRY_SHUTDOWN_GRACE_SECONDS). */
  graceMs: number;
  /** Writes what is buffered (pull records, cache counters). */
  flush: () => Promise<unknown>;
  /** Bound on the flush itself (ms). */
  flushTimeoutMs?: number;
}

export interface ShutdownReport {
  /** Requests still running when the grace ran out (cut). */
  cut: number;
  ms: number;
}

/**
 * A graceful stop, in order:
 * 1. /readyz answers 503 ("shutdown"), so the load balancer takes this replica
 *    out; the port stays open for the probes, and any new request other than
 *    /healthz and /readyz is refused with 503 and `Connection: close` (the
 *    replica takes no new work: a client or load balancer retries elsewhere);
 *    idle keep-alive connections are closed;
 * 2. requests in flight (a large pull) run to completion, up to `graceMs`;
 *    those still running then are cut;
 * 3. the listener and every connection are closed;
 * 4. buffered pull records and cache counters are written.
 * The caller exits (0) when the returned promise settles.
 */
export async function gracefulShutdown(opts: ShutdownOptions): Promise<ShutdownReport> {
  const started = performance.now();
  opts.health.markDraining();
  const servers = opts.registryServer ? [opts.server, opts.registryServer] : [opts.server];
  for (const s of servers) s.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"deadline">((r) => {
    timer = setTimeout(() => r("deadline"), opts.graceMs);
  });
  const outcome = await Promise.race([opts.inflight.idle().then(() => "idle" as const), deadline]);
  clearTimeout(timer);
  const cut = outcome === "deadline" ? opts.inflight.size : 0;
  if (cut) log.warn("shutdown: grace period over, cutting requests still in flight", { cut });
  const closed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  for (const s of servers) s.closeAllConnections();
  // Cut responses record their pulls in their "close" listeners, which run when
  // their sockets have closed: after the server's own "close" (emitted as soon as
  // the connections are counted out) and after a setImmediate. Wait for every
  // response to have closed, so that the flush below sees those records.
  await Promise.all([closed, within(opts.inflight.idle(), CUT_CLOSE_MS, () => log.error("shutdown: cut requests did not close in time", { left: opts.inflight.size }))]);
  await within(
    opts.flush().catch((e: unknown) => log.error("shutdown: flushing failed", { error: e })),
    opts.flushTimeoutMs ?? 15_000,
    () => log.error("shutdown: flushing did not finish in time"),
  );
  return { cut, ms: Math.round(performance.now() - started) };
}

/** Bound on waiting for cut responses to close once their connections are destroyed (ms). */
const CUT_CLOSE_MS = 2_000;

/** Waits for `p`, at most `ms`; past that calls `late` and goes on. */
async function within(p: Promise<unknown>, ms: number, late: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    p,
    new Promise<void>((r) => {
      timer = setTimeout(() => {
        late();
        r();
      }, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** While draining: refuses a new request (not a health probe) with 503 and Connection: close. */
export function refuseWhileDraining(req: http.IncomingMessage, res: http.ServerResponse): void {
  const isRegistry = (req.url ?? "").startsWith("/v2");
  const body = isRegistry
    ? JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: "This Gantry replica is shutting down; retry.", detail: errorDetail(res) }] })
    : JSON.stringify({ error: "This Gantry replica is shutting down; retry." });
  res.writeHead(503, { "content-type": "application/json", "content-length": Buffer.byteLength(body), connection: "close", "retry-after": "1" });
  res.end(req.method === "HEAD" ? undefined : body);
}
