import { z } from "zod";
import { isValidPathName } from "./endpoint";
import { ecrRegionFromHost, formatIssues } from "./kinds";

const name = z.string().trim().min(1, "Give the registry a name.").max(80, "At most 80 characters.");
const endpoint = z.string().trim().min(1, "Enter the registry's host, e.g. quay.io.").max(300, "Too long.");
const username = z.string().trim().max(256, "Too long.");
const secret = z.string().max(8192, "Too long.");
const pathName = z
  .string()
  .trim()
  .toLowerCase()
  .refine(isValidPathName, "Lowercase letters and digits, separated by single '.', '_', '__' or dashes (e.g. quay.io or registry.example.com_5000).");

import { REGISTRY_KINDS, type RegistryKind } from "./kind-names";

export { REGISTRY_KINDS, type RegistryKind } from "./kind-names";

/** A form's empty field is "not given". */
const optionalText = (schema: z.ZodString) => schema.optional().transform((v) => (v ? v : undefined));

/**
 * A kind's own fields, flat so a form and the API send the same names. Which are
 * required depends on the kind (lib/registries/kinds.ts); secrets are write-only.
 * - basic: username, password
 * - ecr: region (derived from the endpoint when empty), accessKeyId, secretAccessKey, roleArn?, externalId?
 * - gar: serviceAccountKey (the JSON key, as text or as an object)
 * - acr: tenantId, clientId, clientSecret
 * - ecr, gar, acr: ambient (the SDK's own credentials; only when the operator allows it)
 */
export const kindFields = {
  kind: z.enum(REGISTRY_KINDS, { message: `One of ${REGISTRY_KINDS.join(", ")}.` }).optional(),
  username: optionalText(username),
  password: optionalText(secret),
  region: optionalText(z.string().trim().max(40, "Too long.")),
  accessKeyId: optionalText(z.string().trim().max(128, "Too long.")),
  secretAccessKey: optionalText(z.string().trim().max(256, "Too long.")),
  roleArn: optionalText(z.string().trim().max(2048, "Too long.")),
  externalId: optionalText(z.string().trim().max(1224, "Too long.")),
  serviceAccountKey: z
    .union([z.string().max(16 * 1024, "A service-account key is a few KiB; this is too long."), z.record(z.string(), z.unknown())])
    .optional()
    .transform((v) => (v === undefined || v === "" ? undefined : typeof v === "string" ? v : JSON.stringify(v)))
    .refine((v) => v === undefined || v.length <= 16 * 1024, "A service-account key is a few KiB; this is too long."),
  tenantId: optionalText(z.string().trim().max(256, "Too long.")),
  clientId: optionalText(z.string().trim().max(256, "Too long.")),
  clientSecret: optionalText(z.string().max(1024, "Too long.")),
  ambient: z
    .union([z.boolean(), z.literal("on"), z.literal("off"), z.literal("")])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === true || v === "on")),
};

/** What a new registry of each kind must have (formats are checked by lib/registries/kinds.ts). */
const REQUIRED: Record<RegistryKind, [keyof typeof kindFields, string, "always" | "keys"][]> = {
  basic: [
    ["username", "Enter the username (or robot account) Gantry pulls with.", "always"],
    ["password", "Enter the password or token.", "always"],
  ],
  ecr: [
    ["accessKeyId", "Enter the access key ID (it starts with AKIA).", "keys"],
    ["secretAccessKey", "Enter the secret access key.", "keys"],
  ],
  gar: [["serviceAccountKey", "Paste the service account's JSON key.", "keys"]],
  acr: [
    ["tenantId", "Enter the Microsoft Entra tenant ID (a GUID) or its domain.", "always"],
    ["clientId", "Enter the service principal's application (client) ID.", "keys"],
    ["clientSecret", "Enter the service principal's client secret.", "keys"],
  ],
};

export const createRegistrySchema = z
  .object({
    name,
    endpoint,
    ...kindFields,
    pathName: pathName.optional().or(z.literal("").transform(() => undefined)),
  })
  // Every missing field at once, with the others' errors (a form shows them all).
  .superRefine((v, ctx) => {
    for (const [field, message, when] of REQUIRED[v.kind ?? "basic"]) {
      if (v[field] === undefined && (when === "always" || v.ambient !== true)) ctx.addIssue({ code: "custom", path: [field], message });
    }
    if (v.kind === "ecr" && !v.region && !ecrRegionFromHost(v.endpoint.replace(/^https?:\/\//i, "").split("/")[0] ?? "")) {
      ctx.addIssue({ code: "custom", path: ["region"], message: "Enter the AWS region (e.g. us-east-1): it cannot be read from this endpoint." });
    }
    for (const { field, message } of formatIssues(v)) ctx.addIssue({ code: "custom", path: [field], message });
  });

/**
 * On update a missing secret keeps the stored one, unless the endpoint's scheme,
 * host or port, or the kind, changes (see updateRegistry).
 */
export const updateRegistrySchema = z
  .object({
    name: name.optional(),
    endpoint: endpoint.optional(),
    ...kindFields,
    pathName: pathName.optional().or(z.literal("").transform(() => undefined)),
  })
  .superRefine((v, ctx) => {
    for (const { field, message } of formatIssues(v)) ctx.addIssue({ code: "custom", path: [field], message });
  });

export const testConnectionSchema = z.object({
  image: z.string().trim().max(512).optional().transform((v) => v || undefined),
});

export type CreateRegistryInput = z.input<typeof createRegistrySchema>;
export type UpdateRegistryInput = z.input<typeof updateRegistrySchema>;
export type KindFieldsInput = z.output<z.ZodObject<typeof kindFields>>;
