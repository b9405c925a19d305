import type http from "node:http";
import type net from "node:net";
import { observeRequest, type StatusClass } from "./metrics";
import type { RequestContext } from "./request-context";

const STATUS_CLASSES: StatusClass[] = ["1xx", "1xx", "2xx", "3xx", "4xx", "5xx"];

/** Bytes of a connection already counted, kept on the socket. */
const COUNTED = Symbol("gantry.countedBytes");
type CountedSocket = net.Socket & { [COUNTED]?: { read: number; written: number } };

/**
 * Counts one request when its response closes: duration from `started` (its
 * arrival, so the wait in the request queue is included), status class
 * ("aborted" when the response did not complete), and the connection's bytes
 * since the last request on it counted, so keep-alive connections add up
 * exactly (headers included; a pipelined request's bytes may go to its
 * neighbour, never twice). The face is read from the request's context when
 * it closes: a custom domain's lookup may have made it the registry's.
 * One listener and a few additions per request.
 */
export function instrumentRequest(req: http.IncomingMessage, res: http.ServerResponse, ctx: RequestContext, started: number): void {
  res.once("close", () => {
    const status = res.writableFinished ? (STATUS_CLASSES[(res.statusCode / 100) | 0] ?? "5xx") : "aborted";
    const socket = req.socket as CountedSocket | null;
    let sent = 0;
    let received = 0;
    if (socket) {
      const counted = (socket[COUNTED] ??= { read: 0, written: 0 });
      const read = socket.bytesRead;
      const written = socket.bytesWritten;
      sent = written - counted.written;
      received = read - counted.read;
      counted.read = read;
      counted.written = written;
    }
    observeRequest(ctx.face, status, (performance.now() - started) / 1000, sent, received);
  });
}
