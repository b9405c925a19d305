"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { teamAction } from "@/lib/http/team-action";
import { createRegistry, deleteRegistry, updateRegistry } from "@/lib/registries/registries";
import { createRegistrySchema, testConnectionSchema, updateRegistrySchema } from "@/lib/registries/schema";
import { testConnection, type TestResult } from "@/lib/registries/test-connection";

const team = z.object({ team: z.string() });
const withId = team.extend({ id: z.string().min(1) });

export const createRegistryAction = teamAction("registry:manage", team.extend(createRegistrySchema.shape), async (input, ctx) => {
  const registry = await createRegistry(ctx, input);
  revalidatePath(`/t/${ctx.team.slug}/registries`);
  redirect(`/t/${ctx.team.slug}/registries/${registry.id}?created=1`);
});

export const updateRegistryAction = teamAction("registry:manage", withId.extend(updateRegistrySchema.shape), async ({ id, ...input }, ctx) => {
  await updateRegistry(ctx, id, input);
  revalidatePath(`/t/${ctx.team.slug}/registries`);
  revalidatePath(`/t/${ctx.team.slug}/registries/${id}`);
  const secret = input.password ?? input.secretAccessKey ?? input.serviceAccountKey ?? input.clientSecret;
  const what = input.kind === undefined || input.kind === "basic" ? "password" : "secret";
  return { ok: true, message: secret ? `Saved, with the new ${what}.` : input.ambient ? "Saved: Gantry uses its own cloud identity." : `Saved. The ${what} is unchanged.` };
});

export const deleteRegistryAction = teamAction("registry:manage", withId, async ({ id }, ctx) => {
  await deleteRegistry(ctx, id);
  revalidatePath(`/t/${ctx.team.slug}/registries`);
  redirect(`/t/${ctx.team.slug}/registries`);
});

export const testConnectionAction = teamAction<z.ZodType<{ team: string; id: string; image?: string }>, TestResult>(
  "registry:manage",
  withId.extend(testConnectionSchema.shape),
  async ({ id, image }, ctx) => {
    const result = await testConnection(ctx, id, image);
    revalidatePath(`/t/${ctx.team.slug}/registries/${id}`);
    return { ok: true, data: result };
  },
);
