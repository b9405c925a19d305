"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { deleteImageTag } from "@/lib/hosted-registry/catalog";
import { teamAction } from "@/lib/http/team-action";

const tagSchema = z.object({ team: z.string(), app: z.string().min(1), repository: z.string().min(1), tag: z.string().min(1) });

export const deleteImageTagAction = teamAction("image:delete", tagSchema, async ({ app, repository, tag }, ctx) => {
  await deleteImageTag(ctx, app, repository, tag);
  const path = `/t/${ctx.team.slug}/apps/${app}/registry`;
  revalidatePath(path);
  redirect(`${path}?deleted=${encodeURIComponent(`${repository}:${tag}`)}`);
});
