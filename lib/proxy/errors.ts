import type { ServerResponse } from "node:http";

/**
 * Errors in the registry API's format (OCI distribution spec):
 *   {"errors": [{"code": "...", "message": "...", "detail": ...}]}
 * Every answer a container client sees from /v2/ uses it.
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

export function sendError(res: ServerResponse, err: ProxyError, method: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ errors: [{ code: err.code, message: err.message, detail: null }] });
  res.writeHead(err.status, {
    ...API_VERSION_HEADER,
    ...err.headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(body)),
  });
  res.end(method === "HEAD" ? undefined : body);
}
