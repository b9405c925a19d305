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

/** Classifies a low-level network error into DNS, TCP, TLS, timeout or SSRF-blocked. */
export function classifyNetworkError(e: unknown, host: string): RegistryNetworkError {
  if (e instanceof RegistryNetworkError) return e;
  const code = codeOf(e) ?? "";
  const message = e instanceof Error ? e.message : String(e);
  if (code === "GANTRY_SSRF_BLOCKED") return new RegistryNetworkError("blocked", message, host, { cause: e });
  if (DNS.has(code)) return new RegistryNetworkError("dns", `DNS lookup of ${host} failed (${code}).`, host, { cause: e });
  if (TIMEOUT.has(code) || (e instanceof Error && e.name === "TimeoutError"))
    return new RegistryNetworkError("timeout", `${host} did not answer in time (${code || "timeout"}).`, host, { cause: e });
  if (TCP.has(code)) return new RegistryNetworkError("tcp", `Could not connect to ${host} (${code}).`, host, { cause: e });
  if (code.startsWith("ERR_SSL") || code.startsWith("CERT_") || code.includes("CERT") || code === "EPROTO" || /certificate|ssl|tls/i.test(message))
    return new RegistryNetworkError("tls", `TLS with ${host} failed (${code || message}).`, host, { cause: e });
  return new RegistryNetworkError("protocol", `Request to ${host} failed: ${message}`, host, { cause: e });
}
