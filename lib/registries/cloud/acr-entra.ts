import {
  ChainedTokenCredential,
  ClientSecretCredential,
  EnvironmentCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
  type ClientSecretCredentialOptions,
  type TokenCredential,
} from "@azure/identity";
import type { Agent } from "node:http";
import net from "node:net";
import { CloudCredentialError, type CloudTransport } from "./types";

/**
 * The Entra scope Gantry asks for: ACR's own audience, which every registry's
 * /oauth2/exchange accepts (an Azure Resource Manager token works there too,
 * but would also let its holder manage the subscription's resources).
 */
export const ACR_SCOPE = "https://containerregistry.azure.net/.default";

type PipelinePolicy = NonNullable<ClientSecretCredentialOptions["additionalPolicies"]>[number]["policy"];

/** An Entra refusal as its token or metadata endpoint sent it. */
interface EntraRefusal {
  status: number;
  error: string | undefined;
  code: string | undefined;
  description: string | undefined;
}

/**
 * What one mint saw on the wire, below the SDK: the SDK (MSAL under
 * @azure/identity) rewraps Entra's answers and network failures into its own
 * errors and drops the AADSTS code of a refused metadata request; the wire has
 * them verbatim.
 */
interface WireLog {
  refusal: EntraRefusal | undefined;
  networkError: { host: string; error: unknown } | undefined;
}

/**
 * A pipeline policy that sends every request of the SDK (MSAL's metadata and
 * token requests, its retries, each hop of a redirect: "perRetry" policies run
 * after the retry and redirect policies, next to the socket) through the
 * transport's SSRF-guarded agent, aborts it at the mint's deadline, and notes
 * refusals and network failures for the error message.
 */
function guardedPolicy(transport: CloudTransport, deadline: AbortSignal, wire: WireLog): PipelinePolicy {
  return {
    name: "gantryGuardedAgent",
    async sendRequest(request, next) {
      const url = new URL(request.url);
      const own = request.abortSignal;
      request.abortSignal = own instanceof AbortSignal ? AbortSignal.any([own, deadline]) : deadline;
      try {
        // An HTTPS_PROXY agent the SDK picked from the environment is replaced too: the guard decides where sockets go.
        const agent = transport.agent(url);
        request.agent = agent;
        await checkIpLiteral(agent, url.hostname);
        const response = await next(request);
        if (response.status >= 400) wire.refusal = parseRefusal(response.status, response.bodyAsText);
        return response;
      } catch (e) {
        wire.networkError = { host: url.host, error: e };
        throw e;
      }
    },
  };
}

/**
 * Node connects to an IP-literal host without calling the agent's lookup, so
 * the transport's guard never sees it: ask that lookup (the guard) about the
 * literal here. Fails closed when the agent has none.
 */
function checkIpLiteral(agent: Agent, hostname: string): Promise<void> {
  const literal = hostname.replace(/^\[|\]$/g, "");
  if (!net.isIP(literal)) return Promise.resolve();
  type Lookup = (host: string, options: { all: true }, cb: (err: Error | null) => void) => void;
  const lookup = (agent as unknown as { options?: { lookup?: Lookup } }).options?.lookup;
  if (!lookup) return Promise.reject(new CloudCredentialError("config", `Refused to connect to ${hostname}: the transport has no SSRF guard for it.`));
  return new Promise((resolve, reject) => lookup(literal, { all: true }, (err) => (err ? reject(err) : resolve())));
}

function parseRefusal(status: number, body: string | null | undefined): EntraRefusal {
  let json: { error?: unknown; error_description?: unknown; error_codes?: unknown } = {};
  try {
    json = JSON.parse((body ?? "").slice(0, 64 * 1024)) as typeof json;
  } catch {
    // not Entra's JSON: the status is all there is
  }
  const description = typeof json.error_description === "string" ? json.error_description : undefined;
  const fromText = description?.match(/\bAADSTS(\d{1,9})\b/)?.[1];
  const fromList = Array.isArray(json.error_codes) && typeof json.error_codes[0] === "number" ? String(json.error_codes[0]) : undefined;
  const number = fromText ?? fromList;
  return { status, error: typeof json.error === "string" ? json.error : undefined, code: number ? `AADSTS${number}` : undefined, description };
}

/**
 * Entra's description without its code prefix and trace lines ("Trace ID: …
 * Correlation ID: … Timestamp: …"), cut to a readable length. It names the
 * client ID and tenant at most, never the secret.
 */
function describeRefusal(r: EntraRefusal): string {
  const text = (r.description ?? "")
    .replace(/^AADSTS\d+:\s*/, "")
    .split(/\s*(?:\r?\n|Trace ID:)/)[0]
    ?.trim();
  const short = text && text.length > 300 ? `${text.slice(0, 297)}…` : text;
  const code = r.code ?? r.error ?? `HTTP ${r.status}`;
  return short ? `${code} (${short})` : code;
}

const CLIENT_SECRET_CODES = new Set(["AADSTS7000215", "AADSTS7000222", "AADSTS7000216"]);
const UNKNOWN_APP_CODES = new Set(["AADSTS700016"]);
const UNKNOWN_TENANT_CODES = new Set(["AADSTS90002", "AADSTS900023", "AADSTS90023"]);

function refusalError(r: EntraRefusal, ambient: boolean): CloudCredentialError {
  const detail = describeRefusal(r);
  if (r.code && CLIENT_SECRET_CODES.has(r.code)) return new CloudCredentialError("rejected", `Microsoft Entra rejected the client secret: ${detail}`);
  if (r.code && UNKNOWN_APP_CODES.has(r.code))
    return new CloudCredentialError("rejected", `Microsoft Entra does not know the application (client ID) in this tenant: ${detail}`);
  if (r.code && UNKNOWN_TENANT_CODES.has(r.code)) return new CloudCredentialError("rejected", `Microsoft Entra does not know the tenant: ${detail}`);
  const who = ambient ? "Gantry's ambient Azure identity" : "the service principal";
  return new CloudCredentialError("rejected", `Microsoft Entra refused a token for ${who}: ${detail}`);
}

function networkFailure(n: NonNullable<WireLog["networkError"]>, authority: URL): CloudCredentialError {
  const code = errorCode(n.error);
  const message = n.error instanceof Error ? n.error.message : String(n.error);
  if (code === "GANTRY_SSRF_BLOCKED" || message.includes("blocked by the SSRF guard"))
    return new CloudCredentialError(
      "unreachable",
      `Refused to connect to Microsoft Entra at ${n.host}: blocked by the SSRF guard (not a public address). Only an operator-configured authority host (GANTRY_AZURE_AUTHORITY_HOST) that is also in GANTRY_ALLOWED_PRIVATE_HOSTS may be private.`,
    );
  if (/CERT|SSL|TLS/i.test(code ?? "") || /certificate/i.test(message))
    return new CloudCredentialError("unreachable", `TLS with Microsoft Entra at ${n.host} failed (${code ?? "certificate"}).`);
  const why = code ?? (n.error instanceof Error && n.error.name === "AbortError" ? "no answer" : "network error");
  return new CloudCredentialError("unreachable", `Microsoft Entra at ${n.host || authority.host} could not be reached (${why}).`);
}

/** "20 s", "1.5 s". */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string" && code !== "REQUEST_SEND_ERROR") return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface EntraTokenRequest {
  /** GUID or verified domain, already validated (it becomes a path segment of the authority). */
  tenantId: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  /** The SDK's ambient chain instead of the secret (the caller checked GANTRY_CLOUD_AMBIENT_CREDENTIALS). */
  ambient: boolean;
  /** https origin of Entra (env().cloud.azureAuthorityHost), already validated. */
  authority: URL;
}

function makeCredential(req: EntraTokenRequest, options: ClientSecretCredentialOptions): TokenCredential {
  if (req.ambient) {
    // DefaultAzureCredential's non-developer part (AZURE_TOKEN_CREDENTIALS=prod): no az CLI or
    // PowerShell child processes, whose HTTP the guard could not see.
    // Each is skipped when its constructor finds nothing to work with (as DefaultAzureCredential does).
    const chain = [
      () => new EnvironmentCredential(options),
      () => new WorkloadIdentityCredential(options),
      () => (req.clientId ? new ManagedIdentityCredential(req.clientId, options) : new ManagedIdentityCredential(options)),
    ].flatMap((make) => {
      try {
        return [make()];
      } catch {
        return [];
      }
    });
    return new ChainedTokenCredential(...chain);
  }
  if (!req.tenantId || !req.clientId || !req.clientSecret) throw new CloudCredentialError("config", "A tenant, a client ID and a client secret are required.");
  return new ClientSecretCredential(req.tenantId, req.clientId, req.clientSecret, options);
}

/**
 * A Microsoft Entra access token for ACR, with @azure/identity. A new
 * credential object per call: the SDK caches tokens inside the credential
 * (MSAL's in-memory cache), and a forced re-mint must reach Entra.
 */
export async function entraAccessToken(req: EntraTokenRequest, transport: CloudTransport): Promise<{ token: string; expiresAt: number }> {
  const deadline = new AbortController();
  const wire: WireLog = { refusal: undefined, networkError: undefined };
  const options: ClientSecretCredentialOptions = {
    authorityHost: req.authority.origin,
    // The authority is the operator's (or Microsoft's public one): trusted as configured, so MSAL
    // does not ask login.microsoftonline.com's instance discovery about it (sovereign clouds, tests).
    disableInstanceDiscovery: true,
    additionalPolicies: [{ policy: guardedPolicy(transport, deadline.signal, wire), position: "perRetry" }],
    retryOptions: { maxRetries: 2 },
  };
  let credential: TokenCredential;
  try {
    credential = makeCredential(req, options);
  } catch (e) {
    if (e instanceof CloudCredentialError) throw e;
    throw new CloudCredentialError("config", `The Azure identity cannot be used: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]?.slice(0, 300)}`);
  }

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      deadline.abort();
      reject(
        new CloudCredentialError("unreachable", `Microsoft Entra at ${req.authority.host} did not answer within ${seconds(transport.timeoutMs)}.`),
      );
    }, transport.timeoutMs);
  });
  try {
    const token = await Promise.race([credential.getToken(ACR_SCOPE, { abortSignal: deadline.signal }), timeout]);
    if (!token?.token) throw new CloudCredentialError("protocol", `Microsoft Entra at ${req.authority.host} answered without an access token.`);
    return { token: token.token, expiresAt: token.expiresOnTimestamp };
  } catch (e) {
    if (e instanceof CloudCredentialError) throw e;
    if (wire.refusal) throw refusalError(wire.refusal, req.ambient);
    if (wire.networkError) throw networkFailure(wire.networkError, req.authority);
    // Neither refused nor failed on the wire: the ambient chain found no identity, or the SDK
    // refused what it got. Its message carries no secret (the SDK never prints it).
    const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
    const kind = req.ambient ? "config" : "protocol";
    throw new CloudCredentialError(kind, `Microsoft Entra token request failed: ${message?.slice(0, 300)}`);
  } finally {
    clearTimeout(timer);
  }
}
