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
  bytes(): number;
  /** Why the body was cut, if it was. */
  cut(): ProxyError | null;
  /** Stops the throughput watch (the request is over). */
  stop(): void;
}

export function blobTooLarge(offset: number, adding: number | null): ProxyError {
  const max = env().registry.maxBlobBytes;
  const what = adding === null ? `passes ${humanBytes(max)}` : `would be ${humanBytes(offset + adding)}`;
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

export function meterBody(req: IncomingMessage, limits: BodyLimits): MeteredBody {
  const maxBlob = env().registry.maxBlobBytes;
  const floor = env().http.streamFloor;
  let bytes = 0;
  let reason: ProxyError | null = null;
  const body = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (limits.offset + bytes > maxBlob) return cut(blobTooLarge(limits.offset, null));
      if (bytes > limits.quotaRoom) return cut(limits.overQuota(bytes));
      done(null, chunk);
    },
  });
  function cut(e: ProxyError): void {
    if (reason) return;
    reason = e;
    stopWatch();
    // The rest of the client's body is read and dropped until the answer is sent and the
    // connection closed; none of it reaches distribution, whose request fails with `e`.
    req.unpipe(body);
    req.resume();
    body.destroy(e);
  }
  const stopWatch = watchThroughput(
    () => bytes,
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
  req.pipe(body);
  // A client that goes away fails the body distribution is reading, so the request fails too.
  req.once("aborted", () => body.destroy(new Error("the client aborted the upload")));
  req.once("error", (e) => body.destroy(e));
  req.once("end", stopWatch);
  return { body, bytes: () => bytes, cut: () => reason, stop: stopWatch };
}
