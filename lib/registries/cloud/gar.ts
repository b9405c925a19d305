import { GoogleAuth, JWT, type gaxios } from "google-auth-library";
import { env } from "@/lib/env";
import { describeGarFailure } from "./gar-errors";
import { parseGarKey, type GarPublic, type GarServiceAccountKey } from "./gar-key";
import { guardedTransporter } from "./gar-transport";
import { CloudCredentialError, type CloudTransport, type MintedCredentials } from "./types";

export { GAR_KEY_MAX_BYTES, garPublicFields, garPublicSchema, garSecretSchema, garServiceAccountKeySchema, parseGarKey, type GarPublic, type GarServiceAccountKey } from "./gar-key";

/**
 * Google Artifact Registry and Container Registry (`*-docker.pkg.dev`, `gcr.io`,
 * `*.gcr.io`): a service-account key is exchanged for an OAuth2 access token
 * (google-auth-library's JWT client, the JWT-bearer grant), which the registry
 * takes as the password of the user `oauth2accesstoken`.
 *
 * Every mint builds a new client, so nothing is cached between calls: each call
 * asks Google for a new token, and the lead's lifecycle decides when to call.
 */

export const GAR_USERNAME = "oauth2accesstoken";
/** The scope of `gcloud auth print-access-token`, which both registries accept; what the account may pull is its IAM role's business (roles/artifactregistry.reader). */
export const GCP_CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

/**
 * What minting needs: the pasted key file (the secret), or, when the operator
 * allows it (GANTRY_CLOUD_AMBIENT_CREDENTIALS=on, checked by the caller), the
 * process's application default credentials.
 */
export type GarConfig = { ambient: true } | { ambient?: false; serviceAccountKey: string };

export interface GarMintOptions {
  /**
   * The only token endpoint a key may name in its token_uri. Default: env().cloud.gcpTokenUri
   * (GANTRY_GCP_TOKEN_URI, https://oauth2.googleapis.com/token); tests pass their stand-in's.
   */
  tokenUri?: string;
}

/** One line for the registry's page: whose identity Gantry pulls with. */
export function describeGarIdentity(config: GarConfig | (GarPublic & { ambient?: boolean })): string {
  if (config.ambient) return "Google application default credentials of the Gantry server";
  let pub: GarPublic;
  if ("clientEmail" in config) pub = config;
  else {
    try {
      pub = parseGarKey(config.serviceAccountKey);
    } catch {
      return "Google service account (the stored key is not valid)";
    }
  }
  return `Google service account ${pub.clientEmail}${pub.projectId ? ` (project ${pub.projectId})` : ""}`;
}

/**
 * Exchanges the key (or the ambient credentials) for registry credentials.
 * Throws CloudCredentialError: `config` before any request when the key is not a
 * usable service-account key or names a token_uri other than `tokenUri`;
 * `rejected` with Google's own error code and description; `unreachable` when the
 * endpoint cannot be reached (the SSRF guard included) or does not answer within
 * transport.timeoutMs (retries included); `protocol` for an answer that is not a token.
 */
export async function mintGarCredentials(config: GarConfig, transport: CloudTransport, opts: GarMintOptions = {}): Promise<MintedCredentials> {
  const tokenUri = new URL(opts.tokenUri ?? env().cloud.gcpTokenUri).href;
  const key = config.ambient ? undefined : parseGarKey(config.serviceAccountKey);
  if (key && tokenUrl(key.tokenUri) !== tokenUri) {
    throw new CloudCredentialError(
      "config",
      `The key's token_uri "${key.tokenUri.slice(0, 200)}" is not the token endpoint Gantry may send service-account assertions to (${tokenUri}). Use the key file as Google issued it.`,
    );
  }
  const endpoint = new URL(tokenUri).host;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new CloudCredentialError("unreachable", `Google's token endpoint ${endpoint} did not answer within ${Math.round(transport.timeoutMs / 100) / 10} s.`));
    }, transport.timeoutMs);
  });
  try {
    const transporter = guardedTransporter(transport, tokenUri, controller.signal, !!config.ambient);
    const exchange = key ? mintWithKey(key, tokenUri, transporter) : mintAmbient(tokenUri, transporter);
    // The race's loser must not become an unhandled rejection.
    exchange.catch(() => {});
    const { accessToken, expiryDate } = await Promise.race([exchange, deadline]);
    return toMinted(accessToken, expiryDate, endpoint);
  } catch (e) {
    throw describeGarFailure(e, { endpoint, ambient: !!config.ambient });
  } finally {
    clearTimeout(timer);
  }
}

function tokenUrl(raw: string): string {
  try {
    return new URL(raw).href;
  } catch {
    return "";
  }
}

interface Exchanged {
  accessToken: unknown;
  expiryDate: unknown;
}

async function mintWithKey(key: GarServiceAccountKey, tokenUri: string, transporter: gaxios.Gaxios): Promise<Exchanged> {
  const client = new JWT({
    email: key.clientEmail,
    key: key.privateKey,
    keyId: key.privateKeyId,
    scopes: [GCP_CLOUD_PLATFORM_SCOPE],
    // The assertion's audience is the endpoint it is sent to (the library's default is Google's URL).
    additionalClaims: { aud: tokenUri },
    transporter,
  });
  const credentials = await client.authorize();
  return { accessToken: credentials.access_token, expiryDate: credentials.expiry_date };
}

async function mintAmbient(tokenUri: string, transporter: gaxios.Gaxios): Promise<Exchanged> {
  const auth = new GoogleAuth({
    scopes: [GCP_CLOUD_PLATFORM_SCOPE],
    // A project ID is not needed to mint; giving one stops the library from running
    // `gcloud` or asking the metadata server for it.
    projectId: "gantry",
    clientOptions: { transporter, additionalClaims: { aud: tokenUri } },
  });
  const client = await auth.getClient();
  const { token } = await client.getAccessToken();
  return { accessToken: token, expiryDate: client.credentials.expiry_date };
}

function toMinted(accessToken: unknown, expiryDate: unknown, endpoint: string): MintedCredentials {
  // The token goes into a Basic header: printable ASCII, bounded.
  if (typeof accessToken !== "string" || !/^[\x21-\x7e]{1,4096}$/.test(accessToken)) {
    throw new CloudCredentialError("protocol", `Google's token endpoint ${endpoint} answered without a usable access_token.`);
  }
  if (typeof expiryDate !== "number" || !Number.isFinite(expiryDate) || expiryDate <= Date.now()) {
    throw new CloudCredentialError("protocol", `Google's token endpoint ${endpoint} answered without a token lifetime (expires_in).`);
  }
  return { username: GAR_USERNAME, password: accessToken, expiresAt: expiryDate };
}
