import type { ServerResponse } from "node:http";
import { log } from "@/lib/log";
import { currentRequestId, REQUEST_ID_HEADER } from "@/lib/observe/request-context";

/**
 * Errors in the registry API's format (OCI distribution spec):
 *   {"errors": [{"code": "...", "message": "...", "detail": {"requestId": "..."}}]}
 * Every answer a container client sees from /v2/ uses it. `detail` may be any
 * JSON: it carries the request id (also in X-Request-Id), which finds the
 * request's lines in the server log.
 */
export const REGISTRY_ERROR_CODES = [
  "UNAUTHORIZED",
  "DENIED",
  "NAME_INVALID",
  "NAME_UNKNOWN",
  "MANIFEST_UNKNOWN",
  "MANIFEST_INVALID",
  "MANIFEST_BLOB_UNKNOWN",
  "BLOB_UNKNOWN",
  "BLOB_UPLOAD_INVALID",
  "BLOB_UPLOAD_UNKNOWN",
  "DIGEST_INVALID",
  "SIZE_INVALID",
  "UNSUPPORTED",
  "TOOMANYREQUESTS",
  "UNAVAILABLE",
] as const;

export type RegistryErrorCode = (typeof REGISTRY_ERROR_CODES)[number];

export function isRegistryErrorCode(code: unknown): code is RegistryErrorCode {
  return typeof code === "string" && (REGISTRY_ERROR_CODES as readonly string[]).includes(code);
}

export class ProxyError extends Error {
  override name = "ProxyError";
  constructor(
    readonly status: number,
    readonly code: RegistryErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const API_VERSION_HEADER = { "docker-distribution-api-version": "registry/2.0" } as const;

/** The error's `detail`: the request's id (the one in X-Request-Id), or null outside a request. */
export function errorDetail(res: ServerResponse): { requestId: string } | null {
  const header = res.getHeader(REQUEST_ID_HEADER);
  const requestId = typeof header === "string" ? header : currentRequestId();
  return requestId ? { requestId } : null;
}

/**
 * Sends the error, and logs it (with the request's id, lib/log.ts): the
 * answer a customer reports is found in the log by that id. The challenge
 * every client gets before it sends credentials is logged at debug only.
 */
export function sendError(res: ServerResponse, err: ProxyError, method: string): void {
  const fields = { status: err.status, code: err.code, message: err.message, method, path: res.req?.url?.split("?")[0]?.slice(0, 300) };
  if (err.status >= 500) log.warn("registry error", fields);
  else if (err.status === 401 && !res.req?.headers.authorization) log.debug("registry error", fields);
  else log.info("registry error", fields);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ errors: [{ code: err.code, message: err.message, detail: errorDetail(res) }] });
  res.writeHead(err.status, {
    ...API_VERSION_HEADER,
    ...err.headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(body)),
  });
  res.end(method === "HEAD" ? undefined : body);
}
