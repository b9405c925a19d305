import type { IncomingMessage } from "node:http";
import { Transform, type Readable } from "node:stream";
import { env } from "@/lib/env";
import { humanBytes } from "@/lib/format/bytes";
import { ProxyError } from "@/lib/proxy/errors";
import { watchThroughput } from "@/lib/registry-client/http";

/**
 * An upload's body (PATCH, PUT, monolithic POST) on its way to distribution,
 * metered: it is cut, and the request answered with the reason, when the blob
 * would pass GANTRY_REGISTRY_MAX_BLOB_BYTES (413 SIZE_INVALID), when the team
 * would pass its quota (403 DENIED), or when the client sends less than the
 * stream floor (GANTRY_STREAM_FLOOR_BYTES per GANTRY_STREAM_FLOOR_SECONDS, as
 * the proxy asks of upstreams: 408). A declared Content-Length is checked
 * before anything is read.
 */
export interface BodyLimits {
  /** Bytes the upload holds already (the blob cap counts them). */
  offset: number;
  /** Bytes the team may still add (Infinity: no quota). */
  quotaRoom: number;
  /** The quota refusal, built when it happens (it names the usage). */
  overQuota: (adding: number) => ProxyError;
}

export interface MeteredBody {
  body: Readable;
  /** Bytes passed on to distribution. */
  bytes(): number;
  /** Why the body was cut, if it was. */
  cut(): ProxyError | null;
  /** Stops the throughput watch (the request is over). */
  stop(): void;
}

export function blobTooLarge(offset: number, adding: number | null): ProxyError {
  const max = env().registry.maxBlobBytes;
  const what = adding === null ? `passes ${max} bytes` : `would be ${offset + adding} bytes`;
  return new ProxyError(413, "SIZE_INVALID", `This blob ${what}, over the registry's limit of ${humanBytes(max)} (${max} bytes, GANTRY_REGISTRY_MAX_BLOB_BYTES) per blob. Push smaller layers, or ask the operator to raise the limit.`);
}

/** The declared Content-Length, when there is a valid one. */
export function declaredLength(req: IncomingMessage): number | null {
  const raw = req.headers["content-length"];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : null;
}

/** Refuses, before reading anything, a body whose declared length passes a limit. */
export function checkDeclared(req: IncomingMessage, limits: BodyLimits): void {
  const length = declaredLength(req);
  if (length === null) return;
  if (limits.offset + length > env().registry.maxBlobBytes) throw blobTooLarge(limits.offset, length);
  if (length > limits.quotaRoom) throw limits.overQuota(length);
}

/**
 * The body distribution reads. It is ended, never aborted, when it is cut or
 * the client goes away: distribution then keeps what it received and answers
 * with the upload's new state, so Gantry's record of the session stays true
 * and a cancel of it works (distribution 2.8 cannot cancel an upload whose
 * last request was aborted: its state no longer matches its data, and the
 * data would stay until its own purge a week later). Forwarded without a
 * Content-Length for the same reason (a shorter body is then not an error).
 */
export function meterBody(req: IncomingMessage, limits: BodyLimits): MeteredBody {
  const maxBlob = env().registry.maxBlobBytes;
  const floor = env().http.streamFloor;
  let received = 0;
  let forwarded = 0;
  let reason: ProxyError | null = null;
  let ended = false;
  const body = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      const over = limits.offset + received > maxBlob ? blobTooLarge(limits.offset, null) : received > limits.quotaRoom ? limits.overQuota(received) : null;
      if (over) {
        // None of a chunk that crosses a limit is passed on.
        done();
        cut(over);
        return;
      }
      forwarded += chunk.length;
      done(null, chunk);
    },
  });
  function finish(): void {
    if (ended) return;
    ended = true;
    stopWatch();
    req.unpipe(body);
    body.end();
  }
  function cut(e: ProxyError): void {
    if (reason) return;
    reason = e;
    finish();
    // The rest of the client's body is read and dropped until the answer is sent and the connection closed.
    req.resume();
  }
  const stopWatch = watchThroughput(
    () => received,
    floor,
    () =>
      cut(
        new ProxyError(
          408,
          "BLOB_UPLOAD_INVALID",
          `The upload sent less than ${humanBytes(floor.minBytes)} in ${floor.windowMs / 1000} s and was cut (GANTRY_STREAM_FLOOR_BYTES, GANTRY_STREAM_FLOOR_SECONDS): start a new upload over a faster link, or in smaller chunks.`,
        ),
      ),
  );
  req.pipe(body, { end: false });
  req.once("end", finish);
  // A client that goes away: distribution keeps what arrived (see above).
  req.once("aborted", finish);
  req.once("error", finish);
  req.once("close", finish);
  return { body, bytes: () => forwarded, cut: () => reason, stop: stopWatch };
}
