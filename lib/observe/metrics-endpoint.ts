import crypto from "node:crypto";
import http from "node:http";
import { log } from "@/lib/log";
import { exposition } from "./metrics";

/**
 * GET /metrics in Prometheus's text format. Where (GANTRY_METRICS_PORT,
 * GANTRY_METRICS_TOKEN, lib/env.ts):
 * - a port of its own: a server that answers /metrics and nothing else (404);
 *   the public port knows no /metrics then (it is the portal's 404);
 * - otherwise, with a token: on the public port, 401 without
 *   `Authorization: Bearer <token>`;
 * - neither: nowhere.
 * With both, the own port asks for the token too.
 */
export const METRICS_PATH = "/metrics";

export function isMetricsPath(url: string | undefined): boolean {
  if (!url?.startsWith(METRICS_PATH)) return false;
  const rest = url.length === METRICS_PATH.length ? "" : url[METRICS_PATH.length];
  return rest === "" || rest === "?";
}

/**
 * The bearer token compared in constant time: both sides hashed first, so
 * neither the comparison nor an early length check tells how much matched.
 */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+([\x21-\x7e]{1,1024})[ \t]*$/i.exec(authorization ?? "");
  const sent = crypto.createHash("sha256").update(m?.[1] ?? "").digest();
  const expected = crypto.createHash("sha256").update(token).digest();
  return crypto.timingSafeEqual(sent, expected) && m !== null;
}

function sendText(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": String(Buffer.byteLength(body)), "cache-control": "no-store", ...headers });
  res.end(req.method === "HEAD" ? undefined : body);
}

/** Answers a request for /metrics (the caller matched the path). */
export function serveMetrics(req: http.IncomingMessage, res: http.ServerResponse, token: string | undefined): void {
  if (req.method !== "GET" && req.method !== "HEAD") return sendText(req, res, 405, "method not allowed\n", { allow: "GET, HEAD" });
  if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
    return sendText(req, res, 401, "metrics need Authorization: Bearer <GANTRY_METRICS_TOKEN>\n", { "www-authenticate": 'Bearer realm="gantry-metrics"' });
  }
  exposition().then(
    ({ contentType, body }) => sendText(req, res, 200, body, { "content-type": contentType }),
    (e: unknown) => {
      log.error("metrics: the exposition failed", { error: e });
      sendText(req, res, 500, "metrics failed; see the server log\n");
    },
  );
}

/** GANTRY_METRICS_PORT's server: /metrics, and 404 for anything else. Not listening yet. */
export function createMetricsServer(token: string | undefined): http.Server {
  const server = http.createServer((req, res) => {
    if (isMetricsPath(req.url)) return serveMetrics(req, res, token);
    sendText(req, res, 404, "not found: this port serves /metrics only\n");
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}
