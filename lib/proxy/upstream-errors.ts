import { log } from "@/lib/log";
import { countUpstreamError } from "@/lib/observe/metrics";
import { registryClass } from "@/lib/observe/registry-class";
import { TokenError } from "@/lib/registry-client/client";
import { formatBytes, RegistryNetworkError, ResponseTooLargeError } from "@/lib/registry-client/errors";
import { CloudCredentialError } from "@/lib/registries/cloud/types";
import { readBounded, type HttpResponse } from "@/lib/registry-client/http";
import { isRegistryErrorCode, ProxyError, type RegistryErrorCode } from "./errors";

/**
 * What a container client is told when the upstream did not give what was
 * asked for: in words, in the registry error format, never with an address
 * (the details go to the log).
 */
export type ResourceKind = "manifests" | "blobs" | "tags";

/** An error body we will not read: drop it (and its connection) rather than drain a possibly endless stream. */
export function drop(upstream: Pick<HttpResponse, "body">): void {
  upstream.body.on("error", () => undefined); // the abort is ours: nobody reads this body
  upstream.body.destroy();
}

/**
 * Throws the client's answer for an upstream status that is not a success:
 * 404 as the resource's UNKNOWN code, 429 with its Retry-After, 401/403 as
 * Gantry's credentials refused (502), other 4xx passed through, the rest 502.
 */
export async function throwForUpstreamStatus(upstream: HttpResponse, kind: ResourceKind, what: string, registryId: string, host: string): Promise<never> {
  const status = upstream.statusCode;
  if (status === 404) {
    drop(upstream);
    throw new ProxyError(404, kind === "blobs" ? "BLOB_UNKNOWN" : kind === "tags" ? "NAME_UNKNOWN" : "MANIFEST_UNKNOWN", `${what} was not found upstream.`);
  }
  if (status === 429) {
    countUpstreamError(registryClass(host), "rate_limited");
    drop(upstream);
    const retry = upstream.headers["retry-after"];
    throw new ProxyError(429, "TOOMANYREQUESTS", "The upstream registry is rate limiting; retry later.", retry ? { "retry-after": String(retry) } : {});
  }
  if (status === 401 || status === 403) {
    drop(upstream);
    countUpstreamError(registryClass(host), "credentials_refused");
    log.warn("upstream refused the registry credentials", { registryId, status });
    throw new ProxyError(502, "UNAVAILABLE", "The vendor's registry refused Gantry's credentials. The vendor has been told; try again later.");
  }
  countUpstreamError(registryClass(host), status >= 500 ? "status_5xx" : "status_4xx");
  if (status >= 400 && status < 500) throw await upstreamClientError(upstream, status, host);
  drop(upstream);
  log.warn("upstream answered an error", { registryId, status, kind, what });
  throw new ProxyError(502, "UNAVAILABLE", `The upstream registry answered ${status}.`);
}

/** Whether an upstream failure is the kind a stale tag may stand in for: unreachable, slow, 429 or 5xx. */
export function isOutage(e: unknown): boolean {
  if (e instanceof ProxyError) return e.status === 429 || e.status === 502 || e.status === 503 || e.status === 504;
  if (e instanceof TokenError) return e.status === 429 || e.status >= 500;
  if (e instanceof CloudCredentialError) return e.kind === "unreachable";
  return e instanceof RegistryNetworkError && e.kind !== "blocked";
}

/** An upstream 4xx as a registry-format error: its own code and message when it sent them, else the status in words. */
async function upstreamClientError(upstream: HttpResponse, status: number, host: string): Promise<ProxyError> {
  let code: RegistryErrorCode = "UNSUPPORTED";
  let message = `The upstream registry answered ${status}.`;
  try {
    const parsed = JSON.parse((await readBounded(upstream, 64 * 1024, "an error body", host)).toString("utf8")) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = parsed.errors?.[0];
    if (isRegistryErrorCode(first?.code)) code = first.code;
    if (typeof first?.message === "string" && first.message) message = `The upstream registry answered ${status}: ${first.message.slice(0, 300)}`;
  } catch {
    upstream.body.destroy(); // not JSON, or too long: the status says enough
  }
  return new ProxyError(status, code, message);
}

/** A network or token failure as the client's answer; logged and counted (by the registry's host class, `host`, when known). */
export function mapNetworkError(e: unknown, registryId?: string, host?: string): ProxyError {
  if (e instanceof ProxyError) return e;
  if (e instanceof TokenError) {
    countUpstreamError(registryClass(host), "token_refused");
    log.warn("upstream token server refused", { registryId, status: e.status });
    return new ProxyError(502, "UNAVAILABLE", "The vendor's registry refused Gantry's credentials. The vendor has been told; try again later.");
  }
  if (e instanceof CloudCredentialError) {
    // The vendor's cloud identity could not mint a registry token: the words are on the registry's page and in the log, not for customers.
    countUpstreamError(registryClass(host), "cloud_credentials");
    log.warn("cloud registry credentials unavailable", { registryId, reason: e.kind, error: e.message });
    return new ProxyError(502, "UNAVAILABLE", "Gantry could not renew its access to the vendor's registry. The vendor has been told; try again later.");
  }
  if (e instanceof RegistryNetworkError) {
    countUpstreamError(registryClass(host ?? e.host), e instanceof ResponseTooLargeError ? "too_large" : e.kind);
    log.warn("upstream request failed", { registryId, kind: e.kind, error: e.message, cause: e.cause instanceof Error ? e.cause.message : undefined });
    if (e instanceof ResponseTooLargeError) return new ProxyError(502, "UNAVAILABLE", `The upstream registry sent ${e.what} over ${formatBytes(e.limitBytes)}.`);
    if (e.kind === "timeout") return new ProxyError(504, "UNAVAILABLE", "The upstream registry did not answer in time.");
    if (e.kind === "blocked") return new ProxyError(502, "UNAVAILABLE", "The upstream registry (or a redirect or token server it named) is blocked by the SSRF guard.");
    if (e.kind === "protocol") return new ProxyError(502, "UNAVAILABLE", "The upstream registry did not answer like a container registry.");
    return new ProxyError(502, "UNAVAILABLE", "The upstream registry is unreachable.");
  }
  return internal(e);
}

export function internal(e: unknown): ProxyError {
  log.error("registry proxy error", { error: e });
  return new ProxyError(500, "UNAVAILABLE", "Internal error in the registry proxy; it has been logged.");
}
