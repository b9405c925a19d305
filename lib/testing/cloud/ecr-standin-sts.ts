import crypto from "node:crypto";

/** A role the ECR stand-in's STS lets users assume. */
export interface StsRole {
  arn: string;
  /** Access key IDs the trust policy lets assume this role. */
  trustedAccessKeyIds: string[];
  /** When set, the trust policy's sts:ExternalId condition. */
  externalId?: string;
  /** Whether the role's policy allows ecr:GetAuthorizationToken (default true). */
  canGetAuthorizationToken?: boolean;
  /** The role's MaxSessionDuration (default 3600, AWS's default). */
  maxSessionSeconds?: number;
}

export interface StsSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
  role: StsRole;
  sessionName: string;
}

type Refusal = { error: string; status: number; message: string };

const NS = "https://sts.amazonaws.com/doc/2011-06-15/";

/** STS's query-protocol error document. */
export function stsError(code: string, message: string): string {
  const type = code === "InternalFailure" ? "Receiver" : "Sender";
  return `<ErrorResponse xmlns="${NS}">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${xml(code)}</Code>\n    <Message>${xml(message)}</Message>\n  </Error>\n  <RequestId>${crypto.randomUUID()}</RequestId>\n</ErrorResponse>\n`;
}

/**
 * AssumeRole as STS decides it: parameters validated, then the trust policy
 * (caller trusted, external ID matching when the role requires one).
 */
export function assumeRole(
  form: URLSearchParams,
  caller: { accessKeyId: string; name?: string },
  account: string,
  roles: Map<string, StsRole>,
  sessionLifetimeSeconds: number | undefined,
): { session: StsSession; xml: string } | Refusal {
  const roleArn = form.get("RoleArn") ?? "";
  const sessionName = form.get("RoleSessionName") ?? "";
  const duration = Number(form.get("DurationSeconds") ?? "3600");
  const externalId = form.get("ExternalId") ?? undefined;
  if (!roleArn || roleArn.length < 20) return validation(`Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20`);
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    return validation(`Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
  }
  if (!Number.isInteger(duration) || duration < 900) return validation(`Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`);
  const role = roles.get(roleArn);
  const denied: Refusal = { error: "AccessDenied", status: 403, message: `User: arn:aws:iam::${account}:user/${caller.name ?? "gantry"} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}` };
  if (!role || !role.trustedAccessKeyIds.includes(caller.accessKeyId)) return denied;
  if (role.externalId !== undefined && role.externalId !== externalId) return denied;
  if (duration > (role.maxSessionSeconds ?? 3600)) {
    return { error: "ValidationError", status: 400, message: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role." };
  }
  const lifetime = Math.min(duration, sessionLifetimeSeconds ?? duration);
  // Whole seconds, as STS writes them.
  const expiresAt = Math.floor(Date.now() / 1000 + lifetime) * 1000;
  const session: StsSession = {
    accessKeyId: `ASIA${crypto.randomBytes(10).toString("hex").toUpperCase().slice(0, 16)}`,
    secretAccessKey: crypto.randomBytes(30).toString("base64"),
    sessionToken: crypto.randomBytes(96).toString("base64"),
    expiresAt,
    role,
    sessionName,
  };
  const roleName = roleArn.split("/").pop() ?? "";
  const body = [
    `<AssumeRoleResponse xmlns="${NS}">`,
    "  <AssumeRoleResult>",
    "    <AssumedRoleUser>",
    `      <AssumedRoleId>AROA${crypto.randomBytes(8).toString("hex").toUpperCase()}:${xml(sessionName)}</AssumedRoleId>`,
    `      <Arn>arn:aws:sts::${account}:assumed-role/${xml(roleName)}/${xml(sessionName)}</Arn>`,
    "    </AssumedRoleUser>",
    "    <Credentials>",
    `      <AccessKeyId>${session.accessKeyId}</AccessKeyId>`,
    `      <SecretAccessKey>${xml(session.secretAccessKey)}</SecretAccessKey>`,
    `      <SessionToken>${xml(session.sessionToken)}</SessionToken>`,
    `      <Expiration>${new Date(expiresAt).toISOString().replace(".000Z", "Z")}</Expiration>`,
    "    </Credentials>",
    "  </AssumeRoleResult>",
    `  <ResponseMetadata><RequestId>${crypto.randomUUID()}</RequestId></ResponseMetadata>`,
    "</AssumeRoleResponse>",
    "",
  ].join("\n");
  return { session, xml: body };
}

function validation(message: string): Refusal {
  return { error: "ValidationError", status: 400, message: `1 validation error detected: ${message}` };
}

function xml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
