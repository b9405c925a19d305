import { AppError } from "@/lib/errors";
import type { KindFieldsInput } from "./kind-fields";
import type { RegistryKind } from "./kind-names";

/** A cloud kind's non-secret settings, stored as Registry.cloudConfig (JSON). */
export interface CloudConfig {
  /** ecr */
  region?: string;
  roleArn?: string;
  externalId?: string;
  /** gar: from the key, for display */
  projectId?: string;
  /** acr */
  tenantId?: string;
  /** The SDK's ambient credentials instead of a stored secret (operator-allowed only). */
  ambient?: boolean;
}

/** What a registry row stores for its kind: the identity shown, the settings, and the secret to seal (undefined: keep the stored one). */
export interface ResolvedKind {
  kind: RegistryKind;
  username: string;
  cloudConfig: string | null;
  secret: string | undefined;
  /** Ambient credentials: any stored secret is deleted. */
  dropSecret: boolean;
}

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const AWS_ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const AWS_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const AWS_EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT_DOMAIN = /^(?=.{4,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
/** Usernames of the credentials each cloud kind mints, as the registry sees them. */
export const AMBIENT_IDENTITY = "(ambient credentials)";

/** The region in an ECR endpoint: <account>.dkr.ecr.<region>.amazonaws.com[.cn]. */
export function ecrRegionFromHost(host: string): string | undefined {
  const m = /^\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/i.exec(host.replace(/:\d+$/, ""));
  return m?.[1] && AWS_REGION.test(m[1].toLowerCase()) ? m[1].toLowerCase() : undefined;
}

const SECRET_LABELS = { password: "password", secretAccessKey: "secret access key", serviceAccountKey: "service-account key", clientSecret: "client secret" } as const;

/**
 * The format of each kind field that was given, whatever the kind (the schema
 * reports these with the missing fields, so a form shows every error at once).
 */
export function formatIssues(v: Partial<KindFieldsInput>): { field: string; message: string }[] {
  const issues: { field: string; message: string }[] = [];
  const check = (field: string, value: string | undefined, ok: (s: string) => boolean, message: string) => {
    if (value !== undefined && !ok(value)) issues.push({ field, message });
  };
  check("region", v.region, (x) => AWS_REGION.test(x), "An AWS region looks like us-east-1 or eu-central-1.");
  check("accessKeyId", v.accessKeyId, (x) => AWS_ACCESS_KEY_ID.test(x), "An access key ID is 16 or more capital letters and digits (e.g. AKIA…).");
  check("roleArn", v.roleArn, (x) => AWS_ROLE_ARN.test(x), "A role ARN looks like arn:aws:iam::123456789012:role/gantry-pull.");
  check("externalId", v.externalId, (x) => AWS_EXTERNAL_ID.test(x), "An external ID is 2 to 1224 letters, digits or +=,.@:/-.");
  check("tenantId", v.tenantId, (x) => GUID.test(x) || TENANT_DOMAIN.test(x), "A tenant is a GUID or a domain such as contoso.onmicrosoft.com.");
  check("clientId", v.clientId, (x) => GUID.test(x), "A client ID is a GUID, e.g. 11111111-2222-3333-4444-555555555555.");
  if (v.serviceAccountKey !== undefined && v.ambient !== true) {
    const key = readServiceAccountKey(v.serviceAccountKey);
    if (typeof key === "string") issues.push({ field: "serviceAccountKey", message: key });
  }
  return issues;
}

class FieldErrors {
  readonly fields: Record<string, string[]> = {};
  add(field: string, message: string) {
    (this.fields[field] ??= []).push(message);
  }
  throwIfAny() {
    const entries = Object.entries(this.fields);
    if (entries.length === 0) return;
    const first = entries[0]?.[1][0] ?? "Check the highlighted fields.";
    throw new AppError("VALIDATION", entries.length === 1 ? first : "Check the highlighted fields.", { fields: this.fields });
  }
}

export function parseCloudConfig(json: string | null): CloudConfig {
  if (!json) return {};
  try {
    const v = JSON.parse(json) as unknown;
    return typeof v === "object" && v !== null ? (v as CloudConfig) : {};
  } catch {
    return {};
  }
}

/** The identity and project in a Google service-account key, or the words for why it is not one. */
export function readServiceAccountKey(text: string): { clientEmail: string; projectId?: string } | string {
  let key: unknown;
  try {
    key = JSON.parse(text);
  } catch {
    return "This is not JSON. Paste the whole service-account key file (it starts with {).";
  }
  if (typeof key !== "object" || key === null) return "A service-account key is a JSON object.";
  const k = key as Record<string, unknown>;
  if (k.type !== "service_account") return `This key's type is ${JSON.stringify(k.type ?? null)}; Gantry needs a "service_account" key.`;
  if (typeof k.client_email !== "string" || !k.client_email.includes("@")) return "The key has no client_email.";
  if (typeof k.private_key !== "string" || !k.private_key.includes("PRIVATE KEY")) return "The key has no private_key.";
  return { clientEmail: k.client_email.slice(0, 256), projectId: typeof k.project_id === "string" ? k.project_id.slice(0, 128) : undefined };
}

/**
 * Validates a kind's fields and says what the row stores. `current` is the row
 * being edited (same kind and endpoint origin: absent fields and the secret are
 * kept); without it every required field, and the secret, must be given.
 */
export function resolveKind(
  kind: RegistryKind,
  input: KindFieldsInput,
  opts: {
    apiHost: string;
    ambientAllowed: boolean;
    /** The row being edited, when its kind stays: absent non-secret fields are kept. */
    current?: { username: string; cloudConfig: string | null };
    /** Why the secret must be given again although a row exists: "the registry's kind changed". */
    secretAgain?: string;
  },
): ResolvedKind {
  const errors = new FieldErrors();
  const keep = opts.current;
  const prior = parseCloudConfig(keep?.cloudConfig ?? null);
  const ambient = kind !== "basic" && (input.ambient ?? (keep ? prior.ambient === true : false));
  if (kind !== "basic" && ambient && !opts.ambientAllowed) {
    errors.add("ambient", "Ambient cloud credentials are off on this Gantry (the operator turns them on with GANTRY_CLOUD_AMBIENT_CREDENTIALS=on). Enter the keys instead.");
  }
  // A secret is needed for a new row, after the endpoint or kind changed, and when leaving ambient credentials.
  const secretNeeded = !ambient && (!keep || opts.secretAgain !== undefined || prior.ambient === true);
  const need = (field: keyof typeof SECRET_LABELS, value: string | undefined, message: string) => {
    if (!value && secretNeeded) errors.add(field, opts.secretAgain ? `Enter the ${SECRET_LABELS[field]} again: ${opts.secretAgain}.` : message);
  };
  let resolved: ResolvedKind;
  switch (kind) {
    case "basic": {
      const username = input.username ?? keep?.username;
      if (!username) errors.add("username", "Enter the username (or robot account) Gantry pulls with.");
      need("password", input.password, "Enter the password or token.");
      resolved = { kind, username: username ?? "", cloudConfig: null, secret: input.password, dropSecret: false };
      break;
    }
    case "ecr": {
      const region = input.region ?? prior.region ?? ecrRegionFromHost(opts.apiHost);
      if (!region) errors.add("region", "Enter the AWS region (e.g. us-east-1): it cannot be read from this endpoint.");
      else if (!AWS_REGION.test(region)) errors.add("region", "An AWS region looks like us-east-1 or eu-central-1.");
      const accessKeyId = input.accessKeyId ?? (keep && !prior.ambient ? keep.username : undefined);
      if (!ambient) {
        if (!accessKeyId) errors.add("accessKeyId", "Enter the access key ID (it starts with AKIA).");
        else if (!AWS_ACCESS_KEY_ID.test(accessKeyId)) errors.add("accessKeyId", "An access key ID is 16 or more capital letters and digits (e.g. AKIA…).");
      }
      need("secretAccessKey", input.secretAccessKey, "Enter the secret access key.");
      const roleArn = input.roleArn ?? prior.roleArn;
      if (roleArn && !AWS_ROLE_ARN.test(roleArn)) errors.add("roleArn", "A role ARN looks like arn:aws:iam::123456789012:role/gantry-pull.");
      const externalId = input.externalId ?? prior.externalId;
      if (externalId && !AWS_EXTERNAL_ID.test(externalId)) errors.add("externalId", "An external ID is 2 to 1224 letters, digits or +=,.@:/-.");
      if (externalId && !roleArn) errors.add("externalId", "An external ID is only used with a role to assume.");
      const config: CloudConfig = { region, ...(roleArn ? { roleArn } : {}), ...(externalId ? { externalId } : {}), ambient };
      resolved = { kind, username: ambient ? AMBIENT_IDENTITY : (accessKeyId ?? ""), cloudConfig: JSON.stringify(config), secret: ambient ? undefined : input.secretAccessKey, dropSecret: ambient };
      break;
    }
    case "gar": {
      let username = keep && !prior.ambient ? keep.username : "";
      let projectId = prior.projectId;
      need("serviceAccountKey", input.serviceAccountKey, "Paste the service account's JSON key.");
      if (input.serviceAccountKey && !ambient) {
        const key = readServiceAccountKey(input.serviceAccountKey);
        if (typeof key === "string") errors.add("serviceAccountKey", key);
        else ({ clientEmail: username, projectId } = key);
      }
      const config: CloudConfig = { ...(projectId && !ambient ? { projectId } : {}), ambient };
      resolved = { kind, username: ambient ? AMBIENT_IDENTITY : username, cloudConfig: JSON.stringify(config), secret: ambient ? undefined : input.serviceAccountKey, dropSecret: ambient };
      break;
    }
    case "acr": {
      const tenantId = input.tenantId ?? prior.tenantId;
      if (!tenantId) errors.add("tenantId", "Enter the Microsoft Entra tenant ID (a GUID) or its domain.");
      else if (!GUID.test(tenantId) && !TENANT_DOMAIN.test(tenantId)) errors.add("tenantId", "A tenant is a GUID or a domain such as contoso.onmicrosoft.com.");
      const clientId = input.clientId ?? (keep && !prior.ambient ? keep.username : undefined);
      if (!ambient) {
        if (!clientId) errors.add("clientId", "Enter the service principal's application (client) ID.");
        else if (!GUID.test(clientId)) errors.add("clientId", "A client ID is a GUID, e.g. 11111111-2222-3333-4444-555555555555.");
      }
      need("clientSecret", input.clientSecret, "Enter the service principal's client secret.");
      const config: CloudConfig = { tenantId, ambient };
      resolved = { kind, username: ambient ? AMBIENT_IDENTITY : (clientId ?? "").toLowerCase(), cloudConfig: JSON.stringify(config), secret: ambient ? undefined : input.clientSecret, dropSecret: ambient };
      break;
    }
  }
  errors.throwIfAny();
  return resolved;
}
