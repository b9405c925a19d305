import crypto from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TrustedProxies } from "@/lib/env";
import { redactString } from "@/lib/log";
import { isTrustedPeer } from "@/lib/net/client-ip";
import { REQUEST_ID_HEADER } from "./request-context";

/**
 * The request's id: a new random UUID (its dashed form is never mistaken for a
 * secret by the log's masking), or the X-Request-Id a trusted reverse proxy
 * (GANTRY_TRUST_PROXY: the socket peer is one) sent, when it is sane: 1–128
 * characters of a token-like alphabet, and not shaped like a secret. The id is
 * written unmasked on every log line, so a value lib/log.ts would mask (32
 * base64url characters is also what a license ID looks like; nginx's
 * `$request_id` is such a value) is replaced: log the response's X-Request-Id
 * at the proxy to correlate then. From anyone else the header is ignored, so a
 * client cannot choose the id its log lines are found by.
 */
const SANE_ID = /^[A-Za-z0-9._:@+=/-]{1,128}$/;

export function acceptableRequestId(value: string | string[] | undefined): string | null {
  if (typeof value !== "string" || !SANE_ID.test(value)) return null;
  return redactString(value) === value ? value : null;
}

export function requestIdFor(req: Pick<IncomingMessage, "headers" | "socket">, trust: TrustedProxies): string {
  const sent = req.headers[REQUEST_ID_HEADER];
  if (sent !== undefined && trust.kind !== "none" && isTrustedPeer(req, trust)) {
    const kept = acceptableRequestId(sent);
    if (kept) return kept;
  }
  return crypto.randomUUID();
}
