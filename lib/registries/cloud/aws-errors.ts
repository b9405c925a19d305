import { CloudCredentialError } from "./types";

/** What a failed AWS call was, to say in words what went wrong. */
export interface AwsCall {
  service: "ECR" | "STS";
  /** The API host, named when it cannot be reached. */
  host: string;
  /** The key that signed, after "AWS does not know": "the access key ID AKIA…", "the session credentials of role arn:…". */
  signer: string;
  /** Who acts, at the start of a sentence: "Access key AKIA…", "Role arn:…", "Gantry's ambient AWS identity". */
  identity: string;
  /** The role being assumed (STS). */
  roleArn?: string;
  /** Values never to repeat in a message (secret key, session token), whatever AWS echoes. */
  secrets: string[];
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: unknown;
}

const MAX_AWS_MESSAGE = 300;

/** AWS's own words, bounded, on one line, with nothing secret in them. */
function awsWords(message: string | undefined, secrets: string[]): string {
  let text = (message ?? "")
    .replace(/[\u0000-\u001f\u007f]+/g, " ")
    // The SDK's hint for developers, not for a vendor.
    .replace(/\s*Deserialization error: to see the raw response.*$/, "")
    .trim();
  for (const secret of secrets) if (secret) text = text.split(secret).join("[redacted]");
  return text.length > MAX_AWS_MESSAGE ? `${text.slice(0, MAX_AWS_MESSAGE)}…` : text;
}

function cited(code: string, words: string): string {
  return words ? `${code} (${words})` : code;
}

/** AWS error codes, by what they mean for the vendor. */
const UNKNOWN_KEY = new Set(["UnrecognizedClientException", "InvalidClientTokenId"]);
const BAD_SIGNATURE = new Set(["InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignature", "IncompleteSignatureException"]);
const EXPIRED = new Set(["ExpiredToken", "ExpiredTokenException", "RequestExpired"]);
const DENIED = new Set(["AccessDenied", "AccessDeniedException"]);
const BUSY = new Set(["ThrottlingException", "Throttling", "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "ServerException"]);

/**
 * A CloudCredentialError for whatever an AWS SDK call threw: the cloud's answer
 * (named by its error code, with AWS's message), the network (naming the host),
 * or an answer the SDK could not read.
 */
export function awsCallError(e: unknown, call: AwsCall): CloudCredentialError {
  if (e instanceof CloudCredentialError) return e;
  const err = (e ?? {}) as SdkError;
  const name = typeof err.name === "string" ? err.name : "Error";
  const status = err.$metadata?.httpStatusCode;
  if (name === "CredentialsProviderError") {
    return new CloudCredentialError("config", `No ambient AWS credentials were found: ${awsWords(err.message, call.secrets)}`);
  }
  if (typeof status !== "number") return networkError(err, name, call);
  const words = awsWords(err.message, call.secrets);
  const what = cited(name, words);
  if (UNKNOWN_KEY.has(name)) return new CloudCredentialError("rejected", `AWS does not know ${call.signer}: ${what}`);
  if (BAD_SIGNATURE.has(name)) return new CloudCredentialError("rejected", `AWS rejected the access key: ${what}`);
  if (EXPIRED.has(name)) return new CloudCredentialError("rejected", `The credentials of ${call.identity} have expired: ${what}`);
  if (DENIED.has(name) && call.service === "STS" && call.roleArn) {
    return new CloudCredentialError("rejected", `${call.identity} may not assume role ${call.roleArn} (check the role's trust policy and external ID): ${what}`);
  }
  if (DENIED.has(name)) return new CloudCredentialError("rejected", `${call.identity} lacks ecr:GetAuthorizationToken: ${what}`);
  if (name === "RegionDisabledException") return new CloudCredentialError("rejected", `STS is not activated in this region for the account: ${what}`);
  if (BUSY.has(name) || status >= 500) return new CloudCredentialError("unreachable", `AWS ${call.service} at ${call.host} is unavailable: ${what}`);
  if (status >= 200 && status < 300) return new CloudCredentialError("protocol", `AWS ${call.service} at ${call.host} answered something that is not its API: ${what}`);
  return new CloudCredentialError("rejected", `AWS ${call.service} refused the request: ${what}`);
}

function networkError(err: SdkError, name: string, call: AwsCall): CloudCredentialError {
  const code = typeof err.code === "string" ? err.code : undefined;
  if (code === "GANTRY_SSRF_BLOCKED") {
    return new CloudCredentialError("unreachable", `Could not reach AWS ${call.service} at ${call.host}: ${awsWords(err.message, [])}`);
  }
  if (err.$response !== undefined || name === "SyntaxError") {
    return new CloudCredentialError("protocol", `AWS ${call.service} at ${call.host} answered something that is not its API (${awsWords(err.message, call.secrets)}).`);
  }
  if (name === "TimeoutError" || name === "AbortError") {
    return new CloudCredentialError("unreachable", `AWS ${call.service} at ${call.host} did not answer in time.`);
  }
  return new CloudCredentialError("unreachable", `Could not reach AWS ${call.service} at ${call.host}: ${code ?? awsWords(err.message, call.secrets)}`);
}
