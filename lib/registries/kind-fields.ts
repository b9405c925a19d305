import { z } from "zod";
import { REGISTRY_KINDS } from "./kind-names";

const secret = z.string().max(8192, "Too long.");
const username = z.string().trim().max(256, "Too long.");

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

export type KindFieldsInput = z.output<z.ZodObject<typeof kindFields>>;
