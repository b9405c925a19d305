import crypto from "node:crypto";
import { ECRClient, GetAuthorizationTokenCommand, type GetAuthorizationTokenCommandOutput } from "@aws-sdk/client-ecr";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { z } from "zod";
import { env } from "@/lib/env";
import { awsCallError, type AwsCall } from "./aws-errors";
import { awsEndpoint, pinnedHandler, withDeadline } from "./aws-http";
import { CloudCredentialError, type CloudTransport, type MintedCredentials } from "./types";

/**
 * Amazon ECR: an access key (optionally assuming a role) exchanged with
 * GetAuthorizationToken for a registry password that lives 12 hours.
 */

/** Only letters, digits and dashes: a region can never name another host. */
const REGION = /^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const ROLE_ARN = /^arn:aws[a-z-]{0,16}:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const SESSION_NAME_CHARS = /[^\w+=,.@-]/g;

/** An optional text field: a form's empty string means "not set". */
function optional<T extends z.ZodType<string | undefined>>(schema: T) {
  return z.union([z.literal("").transform(() => undefined), schema.optional()]);
}

/** An ECR registry's stored, non-secret fields. */
export const ecrConfigSchema = z
  .object({
    region: z.string().trim().toLowerCase().max(32).regex(REGION, "An AWS region such as us-east-1."),
    accessKeyId: optional(z.string().trim().regex(ACCESS_KEY_ID, "An AWS access key ID such as AKIAIOSFODNN7EXAMPLE.")),
    roleArn: optional(z.string().trim().regex(ROLE_ARN, "A role ARN such as arn:aws:iam::123456789012:role/gantry-pull.")),
    externalId: optional(z.string().trim().regex(EXTERNAL_ID, "2 to 1224 letters, digits or + = , . @ : / - _")),
    /** Use the SDK's ambient credentials instead of a stored key (only where the operator allows it). */
    ambient: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if (!c.ambient && !c.accessKeyId) ctx.addIssue({ code: "custom", path: ["accessKeyId"], message: "Enter the access key ID." });
    if (c.externalId && !c.roleArn) ctx.addIssue({ code: "custom", path: ["externalId"], message: "An external ID is sent only when assuming a role." });
  });

/** An ECR registry's secret: the access key's secret (envelope-encrypted at rest, never sent back). */
export const ecrSecretSchema = z.object({
  secretAccessKey: z
    .string()
    .trim()
    .min(1, "Enter the secret access key.")
    .max(256, "Too long.")
    .regex(/^[\x21-\x7e]+$/, "A secret access key has no spaces."),
});

export type EcrConfig = z.output<typeof ecrConfigSchema>;
export type EcrSecret = z.output<typeof ecrSecretSchema>;

/** The region in an ECR registry host (`<account>.dkr.ecr.<region>.amazonaws.com[.cn]`), if it is one. */
export function ecrRegionFromEndpoint(endpoint: string): string | undefined {
  let host: string;
  try {
    host = new URL(endpoint.includes("://") ? endpoint : `https://${endpoint}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  const match = /^\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]{1,32})\.amazonaws\.com(?:\.cn)?$/.exec(host);
  const region = match?.[1];
  return region && REGION.test(region) ? region : undefined;
}

/** One line naming who Gantry signs in as, for the registry's page. */
export function describeEcrIdentity(config: Pick<EcrConfig, "accessKeyId" | "roleArn" | "ambient">): string {
  const who = config.ambient ? "Gantry's ambient AWS credentials" : `access key ${config.accessKeyId ?? "(none)"}`;
  return config.roleArn ? `${who}, assuming ${config.roleArn}` : who;
}

export interface EcrMintOptions {
  /**
   * The operator's endpoint overrides (AWS_ENDPOINT_URL_ECR / _STS); read from
   * env().cloud when not given. Unset: AWS's own host for the region.
   */
  endpoints?: { ecr?: string; sts?: string };
  /** Names the assumed-role session ("gantry-<id>"), e.g. the registry's id; random if not given. */
  sessionId?: string;
}

/** STS gives assumed-role credentials for this long; the ECR token lives until they expire or 12 h. */
const ROLE_SESSION_SECONDS = 3600;
/** One retry for a dropped connection; the deadline bounds the rest. */
const MAX_ATTEMPTS = 2;

type AwsCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date };

/**
 * Mints ECR registry credentials: user "AWS" and the token's password, valid
 * until `expiresAt`. Every request goes through `transport` to the fixed AWS
 * hosts for the region (or the operator's override), within transport.timeoutMs.
 */
export async function mintEcrCredentials(input: z.input<typeof ecrConfigSchema> & { secretAccessKey?: string }, transport: CloudTransport, options: EcrMintOptions = {}): Promise<MintedCredentials> {
  const config = parseConfig(input);
  const secret = config.ambient ? undefined : parseSecret(input.secretAccessKey);
  // Defence in depth: the caller checks this too, but a tenant must never reach the operator's identity.
  if (config.ambient && !env().cloud.ambientCredentials) {
    throw new CloudCredentialError("config", "Ambient AWS credentials are not allowed on this Gantry (GANTRY_CLOUD_AMBIENT_CREDENTIALS is off): enter an access key.");
  }
  const { region } = config;
  const { ecr: ecrUrl, sts: stsUrl } = ecrApiEndpoints(region, options.endpoints ?? { ecr: env().cloud.ecrEndpoint, sts: env().cloud.stsEndpoint });
  const ecrHandler = pinnedHandler(ecrUrl, transport);
  const stsHandler = pinnedHandler(stsUrl, transport);

  const baseSigner = config.ambient ? "Gantry's ambient AWS credentials" : `the access key ID ${config.accessKeyId}`;
  const baseIdentity = config.ambient ? "Gantry's ambient AWS identity" : `Access key ${config.accessKeyId}`;
  const secrets = secret ? [secret] : [];

  let inFlight = config.ambient ? "The ambient AWS credential chain" : config.roleArn ? `AWS STS at ${stsUrl.host}` : `AWS ECR at ${ecrUrl.host}`;
  return withDeadline(transport.timeoutMs, () => inFlight, async (abortSignal) => {
    let credentials: AwsCredentials = { accessKeyId: config.accessKeyId ?? "", secretAccessKey: secret ?? "" };
    let signer = baseSigner;
    let identity = baseIdentity;
    let sessionExpiresAt: number | undefined;
    if (config.ambient) {
      // Resolved first, on its own, so a failure is named as the chain's. Its nested clients
      // (web identity, profiles assuming roles) use the pinned STS handler.
      const chain = fromNodeProviderChain({ clientConfig: { region, endpoint: stsUrl.href, requestHandler: stsHandler, maxAttempts: MAX_ATTEMPTS } });
      credentials = await chain().catch((e: unknown) => {
        throw awsCallError(e, { service: "STS", host: stsUrl.host, signer, identity, secrets });
      });
      secrets.push(credentials.secretAccessKey, ...(credentials.sessionToken ? [credentials.sessionToken] : []));
      sessionExpiresAt = credentials.expiration?.getTime();
    }
    if (config.roleArn) {
      inFlight = `AWS STS at ${stsUrl.host}`;
      const sts = new STSClient({ region, endpoint: stsUrl.href, credentials, requestHandler: stsHandler, maxAttempts: MAX_ATTEMPTS });
      const call: AwsCall = { service: "STS", host: stsUrl.host, signer, identity, roleArn: config.roleArn, secrets };
      const out = await sts
        .send(new AssumeRoleCommand({ RoleArn: config.roleArn, RoleSessionName: sessionName(options.sessionId), DurationSeconds: ROLE_SESSION_SECONDS, ExternalId: config.externalId }), { abortSignal })
        .catch((e: unknown) => {
          throw awsCallError(e, call);
        });
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !(c.Expiration instanceof Date) || Number.isNaN(c.Expiration.getTime())) {
        throw new CloudCredentialError("protocol", `AWS STS at ${stsUrl.host} answered AssumeRole without usable credentials.`);
      }
      credentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
      secrets.push(c.SecretAccessKey, c.SessionToken);
      signer = `the session credentials of role ${config.roleArn}`;
      identity = `Role ${config.roleArn}`;
      sessionExpiresAt = c.Expiration.getTime();
    }
    inFlight = `AWS ECR at ${ecrUrl.host}`;
    const ecr = new ECRClient({ region, endpoint: ecrUrl.href, credentials, requestHandler: ecrHandler, maxAttempts: MAX_ATTEMPTS });
    const call: AwsCall = { service: "ECR", host: ecrUrl.host, signer, identity, secrets };
    const out = await ecr.send(new GetAuthorizationTokenCommand({}), { abortSignal }).catch((e: unknown) => {
      throw awsCallError(e, call);
    });
    return registryCredentials(out, ecrUrl.host, sessionExpiresAt);
  });
}

function parseConfig(input: unknown): EcrConfig {
  const parsed = ecrConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  // Field names and rules only: the values may be anything a vendor typed.
  const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`);
  throw new CloudCredentialError("config", `The ECR settings cannot work: ${problems.join("; ")}`);
}

function parseSecret(secret: string | undefined): string {
  const parsed = ecrSecretSchema.safeParse({ secretAccessKey: secret });
  if (!parsed.success) throw new CloudCredentialError("config", `The ECR settings cannot work: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  return parsed.data.secretAccessKey;
}

/** The ECR and STS API endpoints Gantry calls for a region: the overrides, else AWS's own hosts. */
export function ecrApiEndpoints(region: string, overrides: { ecr?: string; sts?: string }): { ecr: URL; sts: URL } {
  if (!REGION.test(region)) throw new CloudCredentialError("config", "The ECR settings cannot work: region: An AWS region such as us-east-1.");
  return {
    ecr: awsEndpoint("api.ecr", region, overrides.ecr, () => sdkDefaultEndpoint(new ECRClient({ region }), region)),
    sts: awsEndpoint("sts", region, overrides.sts, () => sdkDefaultEndpoint(new STSClient({ region }), region)),
  };
}

function sdkDefaultEndpoint(client: ECRClient | STSClient, region: string): URL {
  const resolved = client.config.endpointProvider({ Region: region, UseFIPS: false, UseDualStack: false, UseGlobalEndpoint: false });
  return new URL(resolved.url.href);
}

/** STS's rule: 2–64 characters of [\w+=,.@-]. */
function sessionName(id: string | undefined): string {
  const suffix = (id ?? crypto.randomBytes(8).toString("hex")).replace(SESSION_NAME_CHARS, "-");
  return `gantry-${suffix}`.slice(0, 64);
}

/** authorizationData[0]: base64 of "AWS:<password>", valid until expiresAt (and no longer than the role's session). */
function registryCredentials(out: GetAuthorizationTokenCommandOutput, host: string, sessionExpiresAt: number | undefined): MintedCredentials {
  const malformed = (why: string) => new CloudCredentialError("protocol", `AWS ECR at ${host} answered GetAuthorizationToken with ${why}.`);
  const data = out.authorizationData?.[0];
  const token = data?.authorizationToken;
  if (typeof token !== "string" || !token) throw malformed("no authorization token");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) throw malformed("a token that is not base64");
  const decoded = Buffer.from(token, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (colon < 1 || !password || !/^[\x21-\x7e]+$/.test(username) || /[\u0000-\u001f\u007f]/.test(password)) throw malformed('a token that is not "user:password"');
  const expires = data?.expiresAt;
  if (!(expires instanceof Date) || Number.isNaN(expires.getTime())) throw malformed("no expiry");
  const expiresAt = Math.min(expires.getTime(), sessionExpiresAt ?? Infinity);
  if (expiresAt <= Date.now()) throw malformed("a token that has already expired");
  return { username, password, expiresAt };
}
