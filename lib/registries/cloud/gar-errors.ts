import { MAX_RESPONSE_BYTES } from "./gar-transport";
import { CloudCredentialError } from "./types";

/**
 * A failed token exchange → CloudCredentialError in words a vendor can act on,
 * naming Google's own error code. Built only from Google's `error` and
 * `error_description`, HTTP statuses and system error codes: never from the
 * request (which carries the signed assertion) nor the library's messages
 * (a key file's JSON parse error quotes the file).
 */

/** What Google's error descriptions mean for the vendor. */
const HINTS: [RegExp, string][] = [
  [/Invalid JWT Signature/i, "the key is not a current key of this service account (deleted, disabled, or from another account); create a new key"],
  [/account not found/i, "the service account does not exist or is disabled"],
  [/Robot is disabled/i, "the service account is disabled"],
  [/short-lived token|iat and exp/i, "the Gantry server's clock may be wrong"],
  [/Failed audience check/i, "the assertion was addressed to another token endpoint"],
];

const MAX_DESCRIPTION = 300;

interface Found {
  code?: string | number;
  type?: string;
  status?: number;
  data?: unknown;
}

/** The facts of an error chain (GaxiosError → node-fetch FetchError → system error). */
function facts(e: unknown): Found {
  const found: Found = {};
  let cur: unknown = e;
  for (let depth = 0; depth < 5 && cur && typeof cur === "object"; depth++) {
    const o = cur as { code?: unknown; type?: unknown; response?: { status?: unknown; data?: unknown }; cause?: unknown; error?: unknown };
    if (found.code === undefined && (typeof o.code === "string" || typeof o.code === "number")) found.code = o.code;
    if (found.type === undefined && typeof o.type === "string") found.type = o.type;
    if (found.status === undefined && o.response && typeof o.response.status === "number") {
      found.status = o.response.status;
      found.data = o.response.data;
    }
    cur = o.cause ?? o.error;
  }
  return found;
}

function printable(s: string, max: number): string {
  const clean = s.replace(/[^\x20-\x7e]+/g, " ").trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** Google's OAuth error body: {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}. */
function oauthError(data: unknown): { error: string; description: string } | undefined {
  let body = data;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (!body || typeof body !== "object") return undefined;
  const { error, error_description: description } = body as { error?: unknown; error_description?: unknown };
  if (typeof error !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(error)) return undefined;
  return { error, description: typeof description === "string" ? printable(description, MAX_DESCRIPTION) : "" };
}

export function describeGarFailure(e: unknown, ctx: { endpoint: string; ambient: boolean }): CloudCredentialError {
  if (e instanceof CloudCredentialError) return e;
  const at = `Google's token endpoint ${ctx.endpoint}`;
  const f = facts(e);
  if (f.code === "GANTRY_SSRF_BLOCKED") {
    return new CloudCredentialError(
      "unreachable",
      `Refused to connect to ${at}: blocked by the SSRF guard (not a public address). An operator can allow it with GANTRY_ALLOWED_PRIVATE_HOSTS.`,
    );
  }
  if (f.status !== undefined) {
    const oauth = oauthError(f.data);
    if (oauth && f.status >= 400 && f.status < 500 && f.status !== 408 && f.status !== 429) {
      const said = oauth.description ? `${oauth.error} (${oauth.description})` : oauth.error;
      const hint = HINTS.find(([re]) => re.test(oauth.description))?.[1];
      const who = ctx.ambient ? "Google rejected the ambient credentials" : "Google rejected the service-account key";
      return new CloudCredentialError("rejected", `${who}: ${said}${hint ? `: ${hint}.` : ""}`);
    }
    if (f.status >= 500 || f.status === 408 || f.status === 429) {
      const said = oauth ? `: ${oauth.error}${oauth.description ? ` (${oauth.description})` : ""}` : "";
      return new CloudCredentialError("unreachable", `${at} is not answering (HTTP ${f.status}${said}); Gantry will try again.`);
    }
    return new CloudCredentialError("protocol", `${at} answered HTTP ${f.status} without an OAuth error: is it Google's token endpoint?`);
  }
  if (f.type === "max-size") {
    return new CloudCredentialError("protocol", `${at} answered more than ${MAX_RESPONSE_BYTES / 1024} KiB: not a token answer.`);
  }
  if (f.type === "invalid-json") {
    return new CloudCredentialError("protocol", `${at} answered something that is not JSON.`);
  }
  if (typeof f.code === "string" && /^(E[A-Z_]+|UND_ERR_[A-Z_]+|AbortError|TimeoutError|ERR_[A-Z_]+)$/.test(f.code)) {
    return new CloudCredentialError("unreachable", `Could not reach ${at}: ${f.code}.`);
  }
  if (f.type === "system" || f.type === "aborted") {
    return new CloudCredentialError("unreachable", `Could not reach ${at}.`);
  }
  if (ctx.ambient) {
    // e.g. "Could not load the default credentials": no ADC on this machine.
    const message = e instanceof Error ? e.message.split("\n")[0]?.replace(/"[^"]*"|'[^']*'/g, "…") ?? "" : "";
    return new CloudCredentialError("config", `No usable Google application default credentials on the Gantry server${message ? `: ${printable(message, 200)}` : "."}`);
  }
  return new CloudCredentialError("protocol", `Minting a Google access token failed at ${at}.`);
}
