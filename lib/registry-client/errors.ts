import { log } from "@/lib/log";

/** Why a registry could not be reached, in the words Test connection and the probe report. */
export type FailureKind = "dns" | "tcp" | "tls" | "timeout" | "blocked" | "protocol";

export class RegistryNetworkError extends Error {
  override name = "RegistryNetworkError";
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly host: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * An upstream response body larger than Gantry reads into memory (a manifest
 * over 4 MiB, a token response over 64 KiB…). A protocol failure: a registry
 * that sends these is not behaving like one. `what` is in words ("a manifest").
 */
export class ResponseTooLargeError extends RegistryNetworkError {
  override name = "ResponseTooLargeError";
  constructor(
    readonly what: string,
    readonly limitBytes: number,
    host: string,
  ) {
    super("protocol", `${host} sent ${what} over ${formatBytes(limitBytes)}; Gantry refused to read it.`, host);
  }
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

const DNS = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME", "EAI_NODATA"]);
const TCP = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "UND_ERR_SOCKET", "ECONNABORTED", "EADDRNOTAVAIL"]);
const TIMEOUT = new Set(["ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ABORT_ERR", "UND_ERR_ABORTED"]);

function codeOf(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string") return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function findInChain<T>(e: unknown, pick: (x: unknown) => T | undefined): T | undefined {
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 5; depth++) {
    const hit = pick(cur);
    if (hit !== undefined) return hit;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

const IP_LITERAL = /\b(?:\d{1,3}\.){3}\d{1,3}\b|\[?[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\]?/gi;

/** Removes IP literals from a low-level message before it may reach a user. */
export function scrubAddresses(text: string): string {
  return text.replace(IP_LITERAL, "[address]");
}

/**
 * Classifies a low-level network error into DNS, TCP, TLS, timeout or
 * SSRF-blocked. The message is for users (Test connection, the probe, the
 * proxy's log): it names the host as configured but never an address it
 * resolved to; resolved addresses and address ranges go to the server log and
 * stay on `cause`.
 */
export function classifyNetworkError(e: unknown, host: string): RegistryNetworkError {
  if (e instanceof RegistryNetworkError) return e;
  const code = codeOf(e) ?? "";
  const message = e instanceof Error ? e.message : String(e);
  if (code === "GANTRY_SSRF_BLOCKED") {
    const detail = findInChain(e, (x) => ((x as { code?: unknown }).code === "GANTRY_SSRF_BLOCKED" ? (x as { address?: string; range?: string }) : undefined));
    log.warn("SSRF guard refused a connection", { host, address: detail?.address, range: detail?.range });
    return new RegistryNetworkError("blocked", blockedMessage(host), host, { cause: e });
  }
  if (DNS.has(code)) return new RegistryNetworkError("dns", `DNS lookup of ${host} failed (${code}).`, host, { cause: e });
  if (TIMEOUT.has(code) || (e instanceof Error && e.name === "TimeoutError"))
    return new RegistryNetworkError("timeout", `${host} did not answer in time (${code || "timeout"}).`, host, { cause: e });
  if (TCP.has(code)) return new RegistryNetworkError("tcp", `Could not connect to ${host} (${code}).`, host, { cause: e });
  if (code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS") || code.startsWith("CERT_") || code.includes("CERT") || code === "EPROTO" || /certificate|ssl|tls/i.test(message))
    return new RegistryNetworkError("tls", `TLS with ${host} failed (${code || scrubAddresses(message)}).`, host, { cause: e });
  // The caller went away (a browser closed its preview): expected, not worth a warning.
  if (e instanceof Error && e.name === "AbortError") return new RegistryNetworkError("protocol", `Request to ${host} was cancelled.`, host, { cause: e });
  log.warn("upstream request failed", { host, code, error: message });
  return new RegistryNetworkError("protocol", `Request to ${host} failed: ${scrubAddresses(message)}`, host, { cause: e });
}

export function blockedMessage(host: string): string {
  return `${host} is blocked by the SSRF guard: it is not a public address. If this registry is yours, an operator can allow it with GANTRY_ALLOWED_PRIVATE_HOSTS.`;
}
