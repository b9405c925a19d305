import crypto from "node:crypto";
import http from "node:http";
import https from "node:https";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { freePort } from "@/lib/testing/registries/ports";
import { assumeRole, stsError, type StsRole } from "./ecr-standin-sts";

/**
 * A stand-in for Amazon ECR's and STS's token APIs on one local port, checking
 * what AWS checks: the SigV4 signature (recomputed with @smithy/signature-v4 from
 * the identity's secret), the credential scope's service and region, the session
 * token of assumed-role credentials and their expiry, the role's trust and
 * external ID, and the ecr:GetAuthorizationToken permission. It answers in the
 * wire formats the SDK reads: ECR's JSON 1.1 (X-Amz-Target
 * AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken) and STS's query
 * protocol (form-encoded Action=AssumeRole, XML answers), with AWS's error shapes.
 */

export interface EcrStandInUser {
  accessKeyId: string;
  secretAccessKey: string;
  /** IAM user name in messages (default "gantry"). */
  name?: string;
  /** Whether the identity policy allows ecr:GetAuthorizationToken (default true). */
  canGetAuthorizationToken?: boolean;
}

export type { StsRole as EcrStandInRole };

export interface EcrStandInOptions {
  users: EcrStandInUser[];
  roles?: StsRole[];
  /** The region requests must be signed for (default us-east-1). */
  region?: string;
  /** 12 digits (default 123456789012). */
  account?: string;
  /** Life of a minted registry password (default 12 h, like ECR). */
  tokenLifetimeSeconds?: number;
  /** Caps assumed-role sessions below the DurationSeconds asked for (tests of expiry). */
  sessionLifetimeSeconds?: number;
  /** Serve https with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
}

export interface EcrStandInRecord {
  api: "ecr" | "sts";
  action: string;
  accessKeyId: string | undefined;
  /** The x-amz-security-token sent, if any. */
  sessionToken: string | undefined;
  status: number;
  /** AWS's error code when refused. */
  error?: string;
}

export type EcrStandInFault = "hang" | "no-authorization-data" | "bad-token" | "not-json";

export interface EcrStandIn {
  url: string;
  region: string;
  account: string;
  /** True while `password` is a token this stand-in minted and it has not expired, for user "AWS". */
  isValid(username: string, password: string): boolean;
  /** Successful GetAuthorizationToken and AssumeRole calls, and refused requests. */
  calls(): { getAuthorizationToken: number; assumeRole: number; refused: number };
  requests(): EcrStandInRecord[];
  clearRequests(): void;
  /** Misbehave from now on ("hang": accept and never answer), or behave again (undefined). */
  setFault(fault: EcrStandInFault | undefined): void;
  /** Grant or revoke ecr:GetAuthorizationToken for a user's access key ID or a role's ARN. */
  setPermission(accessKeyIdOrRoleArn: string, allowed: boolean): void;
  stop(): Promise<void>;
}

/** Who signed a request: a user's long-term key or an assumed role's session. */
type Signer =
  | { kind: "user"; user: EcrStandInUser; secretAccessKey: string }
  | { kind: "session"; secretAccessKey: string; sessionToken: string; expiresAt: number; role: StsRole; sessionName: string };

const MAX_BODY = 64 * 1024;
const SKEW_MS = 15 * 60 * 1000;
const ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921.";

export async function startEcrStandIn(opts: EcrStandInOptions): Promise<EcrStandIn> {
  const region = opts.region ?? "us-east-1";
  const account = opts.account ?? "123456789012";
  const tokenLifetimeMs = (opts.tokenLifetimeSeconds ?? 12 * 3600) * 1000;
  const users = new Map(opts.users.map((u) => [u.accessKeyId, { ...u }]));
  const roles = new Map((opts.roles ?? []).map((r) => [r.arn, { ...r }]));
  const sessions = new Map<string, Extract<Signer, { kind: "session" }>>();
  const tokens = new Map<string, number>();
  const records: EcrStandInRecord[] = [];
  const counts = { getAuthorizationToken: 0, assumeRole: 0, refused: 0 };
  let fault: EcrStandInFault | undefined;
  const hung = new Set<http.ServerResponse>();

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const body = await readBody(req);
    const target = header(req, "x-amz-target");
    const api: "ecr" | "sts" = target !== undefined ? "ecr" : "sts";
    const form = api === "sts" ? new URLSearchParams(body ?? "") : undefined;
    const action = api === "ecr" ? (target ?? "").replace(ECR_TARGET, "") : (form?.get("Action") ?? "");
    const record: EcrStandInRecord = { api, action, accessKeyId: undefined, sessionToken: header(req, "x-amz-security-token"), status: 0 };
    records.push(record);
    const send = (status: number, type: string, text: string, error?: string) => {
      record.status = status;
      record.error = error;
      if (error) counts.refused++;
      res.writeHead(status, { "content-type": type, "x-amzn-requestid": crypto.randomUUID() });
      res.end(text);
    };
    const refuse = (status: number, code: string, message: string) =>
      api === "ecr"
        ? send(status, "application/x-amz-json-1.1", JSON.stringify({ __type: code, message }), code)
        : send(status, "text/xml", stsError(code, message), code);

    if (fault === "hang") {
      hung.add(res);
      return;
    }
    if (body === undefined) return refuse(413, "SerializationException", "Request body too large.");
    const checked = await verify(req, body, api);
    record.accessKeyId = checked.accessKeyId;
    if ("error" in checked) return refuse(checked.status, checked.error, checked.message);
    const signer = checked.signer;

    if (api === "sts") {
      if (action !== "AssumeRole" || form?.get("Version") !== "2011-06-15") return refuse(400, "InvalidAction", `Could not find operation ${action} for version ${form?.get("Version") ?? "NO_VERSION_SPECIFIED"}`);
      if (signer.kind !== "user") return refuse(403, "AccessDenied", "Role chaining is not supported by this stand-in.");
      const outcome = assumeRole(form ?? new URLSearchParams(), signer.user, account, roles, opts.sessionLifetimeSeconds);
      if ("error" in outcome) return refuse(outcome.status, outcome.error, outcome.message);
      sessions.set(outcome.session.accessKeyId, { kind: "session", ...outcome.session });
      counts.assumeRole++;
      return send(200, "text/xml", outcome.xml);
    }

    if (action !== "GetAuthorizationToken") return refuse(400, "UnknownOperationException", "");
    const principal = signer.kind === "user" ? `arn:aws:iam::${account}:user/${signer.user.name ?? "gantry"}` : `arn:aws:sts::${account}:assumed-role/${signer.role.arn.split("/").pop()}/${signer.sessionName}`;
    const allowed = signer.kind === "user" ? (users.get(signer.user.accessKeyId)?.canGetAuthorizationToken ?? true) : (roles.get(signer.role.arn)?.canGetAuthorizationToken ?? true);
    if (!allowed) {
      return refuse(400, "AccessDeniedException", `User: ${principal} is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action`);
    }
    // A token minted with session credentials dies with the session. AWS does not document
    // whether expiresAt says so; the stand-in reports the full lifetime (the stricter case:
    // a client must cap the token's life at the session's end itself).
    const expiresAt = Date.now() + tokenLifetimeMs;
    const password = crypto.randomBytes(48).toString("base64url");
    tokens.set(password, Math.min(expiresAt, signer.kind === "session" ? signer.expiresAt : Infinity));
    counts.getAuthorizationToken++;
    let token = Buffer.from(`AWS:${password}`).toString("base64");
    if (fault === "not-json") return send(200, "application/x-amz-json-1.1", "<html>proxy error</html>");
    if (fault === "no-authorization-data") return send(200, "application/x-amz-json-1.1", JSON.stringify({ authorizationData: [] }));
    if (fault === "bad-token") token = Buffer.from(password).toString("base64");
    // JSON 1.1 timestamps are epoch seconds.
    const authorizationData = [{ authorizationToken: token, expiresAt: expiresAt / 1000, proxyEndpoint: `https://${account}.dkr.ecr.${region}.amazonaws.com` }];
    return send(200, "application/x-amz-json-1.1", JSON.stringify({ authorizationData }));
  };

  /** SigV4 as AWS checks it; AWS's error code and message when it does not hold. */
  async function verify(req: http.IncomingMessage, body: string, api: "ecr" | "sts"): Promise<{ signer: Signer; accessKeyId: string } | { error: string; status: number; message: string; accessKeyId?: string }> {
    const status = api === "ecr" ? 400 : 403;
    const no = (error: string, message: string, accessKeyId?: string) => ({ error: api === "sts" ? STS_CODES[error] ?? error : error, status, message, accessKeyId });
    const auth = /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(header(req, "authorization") ?? "");
    const date = header(req, "x-amz-date") ?? "";
    if (!auth) return no("MissingAuthenticationTokenException", "Missing Authentication Token");
    const [, accessKeyId = "", day, scopeRegion, service, signedHeaders = "", signature = ""] = auth;
    const session = sessions.get(accessKeyId);
    const user = users.get(accessKeyId);
    if (!user && !session) return no("UnrecognizedClientException", "The security token included in the request is invalid.", accessKeyId);
    if (service !== api) return no("InvalidSignatureException", `Credential should be scoped to correct service: '${api}'. `, accessKeyId);
    if (scopeRegion !== region) return no("InvalidSignatureException", `Credential should be scoped to a valid region. `, accessKeyId);
    const signingDate = parseAmzDate(date);
    if (!signingDate || !date.startsWith(day ?? "")) return no("IncompleteSignatureException", "Date must be in ISO-8601 'basic format'.", accessKeyId);
    if (Math.abs(Date.now() - signingDate.getTime()) > SKEW_MS) return no("InvalidSignatureException", `Signature expired: ${date} is now earlier than the allowed window.`, accessKeyId);
    const sentToken = header(req, "x-amz-security-token");
    if (session) {
      if (sentToken !== session.sessionToken) return no("UnrecognizedClientException", "The security token included in the request is invalid.", accessKeyId);
      if (Date.now() >= session.expiresAt) return no("ExpiredTokenException", "The security token included in the request is expired", accessKeyId);
    } else if (sentToken !== undefined) {
      return no("UnrecognizedClientException", "The security token included in the request is invalid.", accessKeyId);
    }
    const names = signedHeaders.split(";");
    const sha = header(req, "x-amz-content-sha256");
    const mismatch = () => no("InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.", accessKeyId);
    if (!names.includes("host") || names.some((n) => header(req, n) === undefined)) return mismatch();
    if (sha !== undefined && sha !== crypto.createHash("sha256").update(body).digest("hex")) return mismatch();
    const secretAccessKey = session ? session.secretAccessKey : (user?.secretAccessKey ?? "");
    const url = new URL(req.url ?? "/", "http://standin");
    const headers = Object.fromEntries(names.map((n) => [n, header(req, n) ?? ""]));
    const signerV4 = new SignatureV4({ credentials: { accessKeyId, secretAccessKey, sessionToken: session?.sessionToken }, region, service: api, sha256: Sha256 });
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key);
    const signed = await signerV4.sign(
      { method: req.method ?? "POST", protocol: "http:", hostname: url.hostname, path: url.pathname, query, headers, body },
      { signingDate, signableHeaders: new Set(names) },
    );
    const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization ?? ""))?.[1] ?? "";
    const sameHeaders = /SignedHeaders=([^,]+),/.exec(String(signed.headers.authorization ?? ""))?.[1] === signedHeaders;
    if (!sameHeaders || !crypto.timingSafeEqual(Buffer.from(expected.padEnd(64, "0")), Buffer.from(signature))) return mismatch();
    return { accessKeyId, signer: session ?? { kind: "user", user: user as EcrStandInUser, secretAccessKey } };
  }

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handler(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify({ __type: "InternalFailure", message: String(e) }));
    });
  };
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, listener) : http.createServer(listener);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`,
    region,
    account,
    isValid: (username, password) => username === "AWS" && (tokens.get(password) ?? 0) > Date.now(),
    calls: () => ({ ...counts }),
    requests: () => [...records],
    clearRequests: () => void records.splice(0),
    setFault: (f) => {
      fault = f;
    },
    setPermission: (id, allowed) => {
      const target = users.get(id) ?? roles.get(id);
      if (!target) throw new Error(`no user or role ${id}`);
      target.canGetAuthorizationToken = allowed;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** STS names the same failures differently (query protocol). */
const STS_CODES: Record<string, string> = {
  MissingAuthenticationTokenException: "MissingAuthenticationToken",
  UnrecognizedClientException: "InvalidClientTokenId",
  InvalidSignatureException: "SignatureDoesNotMatch",
  IncompleteSignatureException: "IncompleteSignature",
  ExpiredTokenException: "ExpiredToken",
};

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

/** The request body as text, or undefined past MAX_BODY. */
async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
