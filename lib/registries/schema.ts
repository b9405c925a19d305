import { z } from "zod";
import { isValidPathName } from "./endpoint";
import { kindFields } from "./kind-fields";
import type { RegistryKind } from "./kind-names";
import { ecrRegionFromHost, formatIssues } from "./kinds";

export { REGISTRY_KINDS, type RegistryKind } from "./kind-names";
export type { KindFieldsInput } from "./kind-fields";

const name = z.string().trim().min(1, "Give the registry a name.").max(80, "At most 80 characters.");
const endpoint = z.string().trim().min(1, "Enter the registry's host, e.g. quay.io.").max(300, "Too long.");
const pathName = z
  .string()
  .trim()
  .toLowerCase()
  .refine(isValidPathName, "Lowercase letters and digits, separated by single '.', '_', '__' or dashes (e.g. quay.io or registry.example.com_5000).");

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
