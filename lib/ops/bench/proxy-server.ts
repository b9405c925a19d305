/**
 * Gantry's HTTP server (lib/server/http-server.ts: probes, client address,
 * request queue, /v2/ to lib/proxy) without the portal, whose requests get a
 * 404 here: bench:proxy measures Gantry's pull path and peak RSS exactly as
 * lib/server/main.ts serves it, without needing a Next build. Environment
 * comes from the caller.
 *
 * SIGUSR2 prints one JSON line, `{"eld":…}`: since the last one, the event
 * loop's delay (perf_hooks.monitorEventLoopDelay, ms), the time spent in
 * garbage collection, the CPU used, how long requests took inside Gantry
 * (parsed → response finished), the connections accepted and, with
 * GANTRY_COUNT_DB_QUERIES=1, the queries sent by table; then resets. The sweep
 * asks after each wrk run, so a slow request can be put down to a blocked
 * loop, to waiting outside Gantry, or to neither.
 */
import { createHistogram, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { takeQueryLog } from "../../db";
import { env } from "../../env";
import { createGantryHttpServer } from "../../server/http-server";

const gantry = createGantryHttpServer(env(), (_req, res) => {
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("no portal in bench:proxy\n");
});
const { server } = gantry;
// Absent from a SWEEP_BASELINE commit that predates the request queue.
const queue = (gantry as Partial<typeof gantry>).queue;
server.listen(env().port, "127.0.0.1", () => console.log("ready"));
process.on("SIGTERM", () => {
  // Idle keep-alive connections (skopeo, wrk) would hold close() open for 65 s.
  server.closeAllConnections();
  server.close(() => process.exit(0));
});

const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
const noGc = () => ({ ms: 0, count: 0, maxMs: 0, majorMs: 0, majorCount: 0, majorMaxMs: 0 });
let gc = noGc();
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.ms += e.duration;
    gc.count++;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
    // perf_hooks.constants.NODE_PERFORMANCE_GC_MAJOR: a mark-compact of the old generation.
    if ((e.detail as { kind?: number } | undefined)?.kind === 4) {
      gc.majorMs += e.duration;
      gc.majorCount++;
      gc.majorMaxMs = Math.max(gc.majorMaxMs, e.duration);
    }
  }
}).observe({ entryTypes: ["gc"] });
// Parsed → finished (µs), what the request spent inside Gantry, its wait in the queue included.
const served = createHistogram();
let accepted = 0;
let firstAccept = 0;
let lastAccept = 0;
server.on("connection", () => {
  lastAccept = performance.now();
  if (accepted++ === 0) firstAccept = lastAccept;
});
server.on("request", (_req, res) => {
  const t0 = process.hrtime.bigint();
  res.once("finish", () => served.record(Math.max(1, Number((process.hrtime.bigint() - t0) / 1000n))));
});
let cpu = process.cpuUsage();
let since = performance.now();
process.on("SIGUSR2", () => {
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const used = process.cpuUsage(cpu);
  const wall = performance.now() - since;
  console.log(
    JSON.stringify({
      eld: { p50: ms(delay.percentile(50)), p90: ms(delay.percentile(90)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
      gc: Object.fromEntries(Object.entries(gc).map(([k, v]) => [k, Math.round(v)])),
      cpu: Math.round(((used.user + used.system) / 1000 / wall) * 100) / 100,
      served: { n: served.count, p50: served.percentile(50) / 1000, p99: served.percentile(99) / 1000, max: served.max / 1000 },
      accepted,
      // From the first connection accepted to the last: how long a burst of new connections waited for accept().
      acceptSpreadMs: Math.round(lastAccept - firstAccept),
      queue: queue ? { ...queue.stats } : null,
      queries: tables(takeQueryLog()),
    }),
  );
  delay.reset();
  served.reset();
  gc = noGc();
  accepted = 0;
  if (queue) Object.assign(queue.stats, { slices: 0, started: 0, maxWaiting: 0 });
  cpu = process.cpuUsage();
  since = performance.now();
});

/** Queries by table (SQLite qualifies tables with "main", PostgreSQL with "public"). */
function tables(log: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const q of log) {
    const t = /(?:FROM|INTO|UPDATE)\s+[`"]?(?:(?:main|public)[`"]?\.[`"]?)?(\w+)/i.exec(q)?.[1] ?? "?";
    out[t] = (out[t] ?? 0) + 1;
  }
  return out;
}
