import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { droppedLogLines } from "@/lib/log";
import { processWide } from "@/lib/process-wide";
import type { Face } from "./request-context";

/**
 * Gantry's Prometheus series (served at /metrics, lib/observe/metrics-endpoint.ts).
 *
 * Labels are bounded by construction: a face, a status class, a reason or kind
 * from a fixed list, a registry *host class* (registry-class.ts). No label
 * carries a license, token, customer, team, app, repository, registry id or
 * path: those are chosen by tenants and would make the series unbounded.
 *
 * One registry per process (processWide): the server's modules and Next's
 * bundle each load this file, and both must count into the same series.
 * Updates are plain increments on label children looked up once (`child`):
 * the hot path pays a map lookup and an add, no string building.
 */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const DB_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

export type StatusClass = "1xx" | "2xx" | "3xx" | "4xx" | "5xx" | "aborted";
export type DenialReason = "unknown_license" | "wrong_app" | "revoked" | "expired" | "out_of_scope" | "beyond_pin" | "rate_limited";
export type UpstreamErrorKind =
  | "dns"
  | "tcp"
  | "tls"
  | "timeout"
  | "blocked"
  | "protocol"
  | "too_large"
  | "credentials_refused"
  | "token_refused"
  | "cloud_credentials"
  | "rate_limited"
  | "status_4xx"
  | "status_5xx";
export type DbStatement = "select" | "insert" | "update" | "delete" | "transaction" | "other";

function create() {
  const registry = new Registry();
  const registers = [registry];
  const sources = new Map<string, () => void>();
  const m = {
    registry,
    /** Scrape-time readers of gauges (cache size, queue depths), registered by the modules that own the numbers. */
    sources,
    requestDuration: new Histogram({
      name: "gantry_http_request_duration_seconds",
      help: "Requests by face (portal, api, proxy, registry, health) and status class (aborted: the response did not complete), from arrival to the response's end; _count is the number of requests",
      labelNames: ["face", "status_class"] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    sentBytes: new Counter({ name: "gantry_http_sent_bytes_total", help: "Bytes sent to clients on HTTP connections (headers included), by face", labelNames: ["face"] as const, registers }),
    receivedBytes: new Counter({ name: "gantry_http_received_bytes_total", help: "Bytes received from clients on HTTP connections (headers included), by face", labelNames: ["face"] as const, registers }),
    inFlight: new Gauge({ name: "gantry_http_requests_in_flight", help: "Requests being served (health probes excepted)", registers }),
    queueWaiting: new Gauge({ name: "gantry_http_requests_queued", help: "Requests waiting for their turn in the request queue (lib/server/fair-queue.ts)", registers }),
    upstreamErrors: new Counter({
      name: "gantry_proxy_upstream_errors_total",
      help: "Failed exchanges with vendors' registries at the proxy, by registry host class and kind",
      labelNames: ["registry", "kind"] as const,
      registers,
    }),
    denials: new Counter({ name: "gantry_license_denials_total", help: "Pulls refused for the license, by face (proxy, registry) and reason", labelNames: ["face", "reason"] as const, registers }),
    cacheRequests: new Counter({
      name: "gantry_cache_requests_total",
      help: "Proxy downloads of blobs and manifests by digest, by cache result (hit: from disk or a fill in progress; miss: fetched upstream)",
      labelNames: ["result"] as const,
      registers,
    }),
    cacheBytes: new Counter({ name: "gantry_cache_bytes_total", help: "Bytes the proxy served from its cache (source=cache), and fetched from upstream into it (source=upstream)", labelNames: ["source"] as const, registers }),
    staleServes: new Counter({ name: "gantry_cache_stale_serves_total", help: "Tags answered with their last known digest while the upstream was unavailable", registers }),
    evictions: new Counter({ name: "gantry_cache_evictions_total", help: "Cache entries evicted (least recently used) to stay under GANTRY_CACHE_MAX_BYTES", registers }),
    evictedBytes: new Counter({ name: "gantry_cache_evicted_bytes_total", help: "Bytes evicted from the cache", registers }),
    digestMismatches: new Counter({ name: "gantry_cache_digest_mismatches_total", help: "Upstream content that did not match its digest (never served whole, never cached)", registers }),
    fills: new Counter({ name: "gantry_cache_fills_total", help: "Cache fills (one upstream fetch written to disk) that ended, by outcome", labelNames: ["outcome"] as const, registers }),
    passThrough: new Counter({ name: "gantry_cache_pass_through_total", help: "Blobs streamed through uncached, by reason (too-large, busy: fill slots taken, disk: below the free-space floor)", labelNames: ["reason"] as const, registers }),
    storedBytes: new Gauge({ name: "gantry_cache_stored_bytes", help: "Bytes the proxy cache holds on disk", registers }),
    maxBytes: new Gauge({ name: "gantry_cache_max_bytes", help: "The cache's size limit (GANTRY_CACHE_MAX_BYTES)", registers }),
    fillsRunning: new Gauge({ name: "gantry_cache_fills_running", help: "Cache fills in progress", registers }),
    pullLogDepth: new Gauge({ name: "gantry_pull_log_queue_depth", help: "Pull records waiting to be written to the database", registers }),
    pullLogDropped: new Counter({ name: "gantry_pull_log_dropped_total", help: "Pull records dropped because the database did not keep up (the queue holds at most 20,000)", registers }),
    dbDuration: new Histogram({
      name: "gantry_db_query_duration_seconds",
      help: "Database statements sent by this process's Prisma client, by statement kind (the pull-log writer thread is not included)",
      labelNames: ["statement"] as const,
      buckets: DB_BUCKETS,
      registers,
    }),
  };
  new Counter({
    name: "gantry_log_lines_dropped_total",
    help: "Log lines dropped because stderr's reader did not keep up (over 16 MiB waiting)",
    registers,
    collect() {
      this.reset();
      this.inc(droppedLogLines());
    },
  });
  new Gauge({
    name: "gantry_build_info",
    help: "Always 1; the Node.js version Gantry runs on",
    labelNames: ["node_version"] as const,
    registers,
  }).set({ node_version: process.version }, 1);
  return {
    ...m,
    // Children of the label sets the hot path uses, bound once.
    cacheHits: m.cacheRequests.labels("hit"),
    cacheMisses: m.cacheRequests.labels("miss"),
    bytesFromCache: m.cacheBytes.labels("cache"),
    bytesFromUpstream: m.cacheBytes.labels("upstream"),
  };
}

export type Metrics = ReturnType<typeof create>;

export const metrics: Metrics = processWide("metrics", create);

/**
 * process_* (CPU, memory, file descriptors) and nodejs_* (event-loop lag and
 * its percentiles, heap, GC, handles): turned on by the server when it serves
 * /metrics, not in the CLI or the pull-log writer thread, which load this file too.
 */
export function collectProcessMetrics(): void {
  processWide("process-metrics", () => {
    collectDefaultMetrics({ register: metrics.registry, eventLoopMonitoringPrecision: 10 });
    // Gauges named like counters, which `promtool check metrics` rejects; nodejs_active_{handles,requests,resources}
    // (by type) say the same, summed.
    for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) metrics.registry.removeSingleMetric(name);
  });
}

/**
 * Registers a function run before every scrape, which sets gauges from the
 * numbers its module holds. The first registration of a name wins: Next's copy
 * of a module (its own, idle instance) must not replace the server's.
 */
export function onScrape(name: string, read: () => void): void {
  if (!metrics.sources.has(name)) metrics.sources.set(name, read);
}

/** The exposition (Prometheus text format), gauges refreshed first. */
export async function exposition(): Promise<{ contentType: string; body: string }> {
  for (const read of metrics.sources.values()) {
    try {
      read();
    } catch {
      // A source that fails leaves its gauge at its last value; the scrape goes on.
    }
  }
  return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
}

/**
 * Label children looked up once per label set and kept: `labels()` validates
 * and hashes on every call, a Map lookup does not. Every key is from a fixed
 * list, so the maps stay small.
 */
const children = processWide("metric-children", () => new Map<string, unknown>());

function child<T>(key: string, make: () => T): T {
  let c = children.get(key) as T | undefined;
  if (c === undefined) {
    c = make();
    children.set(key, c);
  }
  return c;
}

export function observeRequest(face: Face, status: StatusClass, seconds: number, sent: number, received: number): void {
  child(`d|${face}|${status}`, () => metrics.requestDuration.labels(face, status)).observe(seconds);
  if (sent > 0) child(`s|${face}`, () => metrics.sentBytes.labels(face)).inc(sent);
  if (received > 0) child(`r|${face}`, () => metrics.receivedBytes.labels(face)).inc(received);
}

export function countUpstreamError(registryClass: string, kind: UpstreamErrorKind): void {
  child(`u|${registryClass}|${kind}`, () => metrics.upstreamErrors.labels(registryClass, kind)).inc();
}

export function countDenial(face: "proxy" | "registry", reason: DenialReason): void {
  child(`l|${face}|${reason}`, () => metrics.denials.labels(face, reason)).inc();
}

export function observeDbStatement(statement: DbStatement, seconds: number): void {
  child(`q|${statement}`, () => metrics.dbDuration.labels(statement)).observe(seconds);
}
