import net from "node:net";
import { decodeJwt } from "jose";
import { request as undiciRequest } from "undici";
import { z } from "zod";
import { env } from "@/lib/env";
import { checkAddress, isHostAllowlisted, parseAllowlist } from "@/lib/net/ssrf";
import { classifyNetworkError, RegistryNetworkError } from "@/lib/registry-client/errors";
import { agentFor, BODY_LIMITS, discard, readBounded, type HttpOptions } from "@/lib/registry-client/http";
import { entraAccessToken, seconds } from "./acr-entra";
import { CloudCredentialError, type CloudTransport, type MintedCredentials } from "./types";

/**
 * Azure Container Registry with a service principal: a Microsoft Entra access
 * token (client credentials, @azure/identity) exchanged at the registry's own
 * POST /oauth2/exchange for an ACR refresh token, which the registry accepts as
 * the password of the all-zero user (what `az acr login` does). Needs the
 * AcrPull role on the registry.
 */

/** The user name ACR expects with a refresh token as the password. */
export const ACR_TOKEN_USERNAME = "00000000-0000-0000-0000-000000000000";
/** ACR's refresh tokens live 3 hours; used when one's `exp` cannot be read. */
export const ACR_REFRESH_TOKEN_FALLBACK_MS = 3 * 60 * 60 * 1000;
/** Login-server suffixes of ACR in Azure's public, China and US Government clouds. */
export const ACR_HOST_SUFFIXES = [".azurecr.io", ".azurecr.cn", ".azurecr.us"];

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// A DNS name of letters, digits and inner hyphens with a TLD: it becomes a path segment of the
// authority URL, so nothing that could add a segment, a query or a host (/ ? # @ : %) gets through.
const DOMAIN = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

const guid = (what: string) =>
  z
    .string()
    .trim()
    .regex(GUID, `${what} must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`)
    .transform((v) => v.toLowerCase());

/** A directory (tenant) ID, or one of the tenant's verified domains (contoso.onmicrosoft.com). */
export const acrTenantIdSchema = z
  .string()
  .trim()
  .refine((v) => GUID.test(v) || DOMAIN.test(v), "The tenant must be a directory (tenant) ID or a verified domain such as contoso.onmicrosoft.com")
  .transform((v) => v.toLowerCase());

/**
 * The non-secret fields of an ACR registry. With `ambient` (allowed only when the operator set
 * GANTRY_CLOUD_AMBIENT_CREDENTIALS=on), Gantry's own Azure identity is used instead of a secret:
 * the tenant is then optional (taken from the token) and the client ID picks a user-assigned
 * managed identity.
 */
export const acrConfigSchema = z
  .object({
    tenantId: acrTenantIdSchema.optional(),
    clientId: guid("The client ID").optional(),
    ambient: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if (c.ambient) return;
    if (!c.tenantId) ctx.addIssue({ code: "custom", path: ["tenantId"], message: "The tenant is required" });
    if (!c.clientId) ctx.addIssue({ code: "custom", path: ["clientId"], message: "The client ID is required" });
  });

/** The secret part: the service principal's client secret (a value, not the secret's ID). */
export const acrSecretSchema = z.object({
  clientSecret: z
    .string()
    .min(1, "The client secret is required")
    .max(1024, "The client secret is too long")
    .refine((v) => !/[\r\n]/.test(v), "The client secret is one line"),
});

export type AcrConfig = z.infer<typeof acrConfigSchema>;
export type AcrSecret = z.infer<typeof acrSecretSchema>;

/** One line for display: the client ID and tenant, never the secret. */
export function describeAcrIdentity(config: Pick<AcrConfig, "tenantId" | "clientId" | "ambient">): string {
  if (config.ambient) return config.clientId ? `Gantry's Azure identity (managed identity ${config.clientId})` : "Gantry's Azure identity (ambient)";
  return `Service principal ${config.clientId ?? "?"} in tenant ${config.tenantId ?? "?"}`;
}

export interface AcrRegistryTarget {
  /** The registry's endpoint, https://myregistry.azurecr.io. */
  endpoint: string;
  /** The registry HTTP options (allowlist and timeouts), as the registry client gets them. */
  http: HttpOptions;
  /** Entra's authority host; default env().cloud.azureAuthorityHost (GANTRY_AZURE_AUTHORITY_HOST). */
  authorityHost?: string;
}

function checkedEndpoint(raw: string, http: HttpOptions): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CloudCredentialError("config", "The registry endpoint is not a URL.");
  }
  const operatorAllowed = isHostAllowlisted(url.hostname, parseAllowlist(http.allowedPrivateHosts));
  const acrHost = ACR_HOST_SUFFIXES.some((s) => url.hostname.toLowerCase().endsWith(s) && url.hostname.length > s.length);
  // The Entra token leaves Gantry only for a real ACR login server, or a host the operator listed
  // (a private mirror, the tests' stand-in): never a host a vendor typed, which with ambient
  // credentials would receive the operator's own identity.
  if (!acrHost && !operatorAllowed)
    throw new CloudCredentialError("config", `${url.host} is not an Azure Container Registry login server (*.azurecr.io): Gantry sends Microsoft Entra tokens only there.`);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && operatorAllowed))
    throw new CloudCredentialError("config", `The registry endpoint must use https:// (https://${url.host}).`);
  if (url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== ""))
    throw new CloudCredentialError("config", "The registry endpoint must be the registry's origin, without a path, query or user.");
  return url;
}

function checkedAuthority(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CloudCredentialError("config", "GANTRY_AZURE_AUTHORITY_HOST is not a URL.");
  }
  if (url.protocol !== "https:") throw new CloudCredentialError("config", "GANTRY_AZURE_AUTHORITY_HOST must use https:// (Microsoft Entra is only reached over TLS).");
  if (url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== ""))
    throw new CloudCredentialError("config", "GANTRY_AZURE_AUTHORITY_HOST must be an origin, without a path, query or user.");
  return url;
}

/**
 * Mints registry credentials for an ACR registry. Every check of the stored
 * fields happens before any request; all HTTP to Entra goes through
 * `transport.agent`, the exchange through the registry transport's SSRF guard.
 * The whole mint (retries included) ends within `transport.timeoutMs`.
 */
export async function mintAcrCredentials(
  config: AcrConfig & Partial<AcrSecret>,
  transport: CloudTransport,
  target: AcrRegistryTarget,
): Promise<MintedCredentials> {
  const started = Date.now();
  const parsed = acrConfigSchema.safeParse(config);
  if (!parsed.success) throw new CloudCredentialError("config", parsed.error.issues.map((i) => i.message).join("; "));
  const { tenantId, clientId, ambient } = parsed.data;
  if (!ambient && !acrSecretSchema.safeParse({ clientSecret: config.clientSecret }).success)
    throw new CloudCredentialError("config", "The client secret is missing or malformed.");
  const endpoint = checkedEndpoint(target.endpoint, target.http);
  const authority = checkedAuthority(target.authorityHost ?? env().cloud.azureAuthorityHost);

  const entra = await entraAccessToken({ tenantId, clientId, clientSecret: ambient ? undefined : config.clientSecret, ambient, authority }, transport);
  const tenant = tenantId ?? tenantOf(entra.token);
  const remaining = Math.max(1, transport.timeoutMs - (Date.now() - started));
  const refreshToken = await exchange(endpoint, { accessToken: entra.token, tenant }, target.http, remaining);
  return { username: ACR_TOKEN_USERNAME, password: refreshToken, expiresAt: expiryOf(refreshToken) };
}

function tenantOf(token: string): string | undefined {
  try {
    const tid = decodeJwt(token).tid;
    return typeof tid === "string" && GUID.test(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** The refresh token's `exp`, or ACR's usual 3 hours when it cannot be read. */
export function expiryOf(refreshToken: string, now = Date.now()): number {
  try {
    const exp = decodeJwt(refreshToken).exp;
    if (typeof exp === "number" && Number.isFinite(exp) && exp * 1000 > now) return exp * 1000;
  } catch {
    // not a JWT: ACR's documented lifetime
  }
  return now + ACR_REFRESH_TOKEN_FALLBACK_MS;
}

const JWT_LIKE = /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g;

/** Text from the registry, safe to show: one line, short, no token echoed back. */
function registryText(text: string, secrets: string[]): string {
  let t = text;
  for (const s of secrets) if (s) t = t.split(s).join("[token]");
  t = t.replace(JWT_LIKE, "[token]").replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return t.length > 200 ? `${t.slice(0, 197)}…` : t;
}

/** ACR's refusal body: {"errors":[{"code":"UNAUTHORIZED","message":"…"}]}. */
function registryRefusal(body: string, secrets: string[]): string | undefined {
  try {
    const json = JSON.parse(body) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = Array.isArray(json.errors) ? json.errors[0] : undefined;
    if (!first) return undefined;
    const code = typeof first.code === "string" ? registryText(first.code, secrets) : undefined;
    const message = typeof first.message === "string" ? registryText(first.message, secrets) : undefined;
    return [code, message && `(${message})`].filter(Boolean).join(" ") || undefined;
  } catch {
    return undefined;
  }
}

/** POST /oauth2/exchange: the Entra access token for an ACR refresh token. */
async function exchange(endpoint: URL, form: { accessToken: string; tenant: string | undefined }, http: HttpOptions, timeoutMs: number): Promise<string> {
  const host = endpoint.host;
  const url = new URL("/oauth2/exchange", endpoint);
  const body = new URLSearchParams({ grant_type: "access_token", service: endpoint.hostname, ...(form.tenant ? { tenant: form.tenant } : {}), access_token: form.accessToken });
  // Port-qualified service for a login server on a non-default port (the stand-in); ACR's own have none.
  if (endpoint.port) body.set("service", endpoint.host);
  const unreachable = (why: string) => new CloudCredentialError("unreachable", `Azure Container Registry ${host} could not be reached for the token exchange: ${why}`);
  let res;
  try {
    // undici connects to IP literals without the guarded lookup: check them as httpRequest does.
    const literal = endpoint.hostname.replace(/^\[|\]$/g, "");
    if (net.isIP(literal)) checkAddress(literal, literal, parseAllowlist(http.allowedPrivateHosts));
    // The registry's own host is the one hop that may use the operator's private allowlist (no redirects are followed).
    res = await undiciRequest(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: body.toString(),
      dispatcher: agentFor(http, true),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const err = classifyNetworkError(e, host);
    if (err.kind === "timeout") throw unreachable(`no answer within ${seconds(timeoutMs)}.`);
    throw unreachable(err.message);
  }
  let text: string;
  try {
    text = (await readBounded(res, BODY_LIMITS.token, "a token exchange response", host)).toString("utf8");
  } catch (e) {
    if (e instanceof RegistryNetworkError && e.kind === "protocol") throw new CloudCredentialError("protocol", e.message);
    if (e instanceof RegistryNetworkError && e.kind === "timeout") throw unreachable(`no answer within ${seconds(timeoutMs)}.`);
    await discard(res);
    throw unreachable(e instanceof Error ? e.message : String(e));
  }
  const secrets = [form.accessToken];
  if (res.statusCode === 200) {
    let refresh: unknown;
    try {
      refresh = (JSON.parse(text) as { refresh_token?: unknown }).refresh_token;
    } catch {
      // handled below
    }
    if (typeof refresh !== "string" || !refresh) throw new CloudCredentialError("protocol", `Azure Container Registry ${host} answered the token exchange without a refresh token.`);
    return refresh;
  }
  const detail = registryRefusal(text, secrets) ?? `HTTP ${res.statusCode}`;
  if (res.statusCode === 401 || res.statusCode === 403 || res.statusCode === 400)
    throw new CloudCredentialError("rejected", `Azure Container Registry ${host} refused the Microsoft Entra token: ${detail}`);
  if (res.statusCode === 404) throw new CloudCredentialError("protocol", `${host} has no /oauth2/exchange (HTTP 404): is it an Azure Container Registry?`);
  if (res.statusCode >= 500) throw unreachable(`it answered ${detail}.`);
  throw new CloudCredentialError("protocol", `Azure Container Registry ${host} answered the token exchange with ${detail}.`);
}
