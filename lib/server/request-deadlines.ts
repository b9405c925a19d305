import type http from "node:http";
import type { Env } from "../env";
import { log } from "../log";
import { errorDetail } from "../proxy/errors";

/**
 * How long a request's body may take to arrive.
 *
 * Node's `server.requestTimeout` (300 s by default) answers 408 to any request
 * not received whole by then, which cuts a 2 GB layer pushed over a slow link
 * while it is still moving. So the server runs with it off and:
 * - registry and proxy traffic is held to a throughput floor instead
 *   (GANTRY_STREAM_FLOOR_BYTES per GANTRY_STREAM_FLOOR_SECONDS, as upstream
 *   blobs are): a body that keeps moving may take as long as it needs, one
 *   that stalls is cut;
 * - a portal request (pages, actions, the API) must arrive whole within
 *   GANTRY_REQUEST_TIMEOUT_SECONDS, as before;
 * - headers, for everything, within GANTRY_HEADERS_TIMEOUT_SECONDS (Node's headersTimeout).
 *
 * Progress is read from the socket's byte counter, so watching never reads
 * the body itself (whoever handles the request still owns it).
 */
export type Deadlines = Env["http"];

export function configureServerTimeouts(server: http.Server, deadlines: Deadlines): void {
  server.requestTimeout = 0;
  server.headersTimeout = deadlines.headersTimeoutMs;
  // Node checks the two timeouts above on this interval (30 s by default): check often enough
  // for a short, configured headers timeout to mean what it says.
  const check = Math.min(30_000, Math.max(250, Math.floor(deadlines.headersTimeoutMs / 4)));
  (server as http.Server & { connectionsCheckingInterval?: number }).connectionsCheckingInterval = check;
}

/** Whether a request announces a body (a length over 0, or chunked). */
function hasBody(req: http.IncomingMessage): boolean {
  if (req.headers["transfer-encoding"] !== undefined) return true;
  const length = Number(req.headers["content-length"] ?? 0);
  return Number.isFinite(length) && length > 0;
}

function refuse(req: http.IncomingMessage, res: http.ServerResponse, why: string): void {
  log.warn("request body cut", { method: req.method, path: (req.url ?? "").split("?")[0]?.slice(0, 200), why });
  if (!res.headersSent) {
    res.writeHead(408, { "content-type": "application/json", connection: "close" });
    res.end(JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: `The request body ${why}.`, detail: errorDetail(res) }] }));
  }
  req.socket.destroy();
}

/** Registry and proxy requests: the body must keep moving at the floor's pace. */
export function watchBodyFloor(req: http.IncomingMessage, res: http.ServerResponse, deadlines: Deadlines): void {
  if (!hasBody(req) || req.complete) return;
  const socket = req.socket;
  let last = socket.bytesRead;
  const { windowMs, minBytes } = deadlines.streamFloor;
  const timer = setInterval(() => {
    if (req.complete) return stop();
    const now = socket.bytesRead;
    if (now - last < minBytes) {
      stop();
      refuse(req, res, `arrived slower than ${minBytes} bytes in ${windowMs / 1000} s`);
      return;
    }
    last = now;
  }, windowMs);
  timer.unref();
  const stop = () => clearInterval(timer);
  req.once("end", stop);
  res.once("close", stop);
}

/** Portal requests: the whole request within GANTRY_REQUEST_TIMEOUT_SECONDS. */
export function watchBodyDeadline(req: http.IncomingMessage, res: http.ServerResponse, deadlines: Deadlines): void {
  if (!hasBody(req) || req.complete) return;
  const timer = setTimeout(() => {
    if (!req.complete) refuse(req, res, `did not arrive within ${deadlines.requestTimeoutMs / 1000} s`);
  }, deadlines.requestTimeoutMs);
  timer.unref();
  const stop = () => clearTimeout(timer);
  req.once("end", stop);
  res.once("close", stop);
}
