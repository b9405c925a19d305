import { z } from "zod";
import { isValidPathName } from "./endpoint";

const name = z.string().trim().min(1, "Give the registry a name.").max(80, "At most 80 characters.");
const endpoint = z.string().trim().min(1, "Enter the registry's host, e.g. quay.io.").max(300, "Too long.");
const username = z.string().trim().min(1, "Enter the username (or robot account) Gantry pulls with.").max(256, "Too long.");
const password = z.string().min(1, "Enter the password or token.").max(8192, "Too long.");
const pathName = z
  .string()
  .trim()
  .toLowerCase()
  .refine(isValidPathName, "Lowercase letters and digits, separated by single '.', '_', '__' or dashes (e.g. quay.io or registry.example.com_5000).");

export const createRegistrySchema = z.object({
  name,
  endpoint,
  username,
  password,
  pathName: pathName.optional().or(z.literal("").transform(() => undefined)),
});

/** On update an empty or missing password keeps the stored one, unless the endpoint's scheme, host or port changes (see updateRegistry). */
export const updateRegistrySchema = z.object({
  name: name.optional(),
  endpoint: endpoint.optional(),
  username: username.optional(),
  password: z.string().max(8192, "Too long.").optional().transform((v) => (v ? v : undefined)),
  pathName: pathName.optional().or(z.literal("").transform(() => undefined)),
});

export const testConnectionSchema = z.object({
  image: z.string().trim().max(512).optional().transform((v) => v || undefined),
});

export type CreateRegistryInput = z.input<typeof createRegistrySchema>;
export type UpdateRegistryInput = z.input<typeof updateRegistrySchema>;
