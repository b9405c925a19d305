"use server";

import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { requireUser } from "@/lib/auth/session";
import { teamNameSchema } from "@/lib/auth/sign-up";
import { clientIpFromHeaders } from "@/lib/net/client-ip";
import { toAppError } from "@/lib/http/map-error";
import type { ActionResult } from "@/lib/http/team-action";
import { createTeam } from "@/lib/teams/create-team";

export async function createTeamAction(_prev: ActionResult, formData: FormData): Promise<ActionResult> {
  let slug: string;
  try {
    const user = await requireUser();
    const { name } = z.object({ name: teamNameSchema }).parse(Object.fromEntries(formData));
    slug = (await createTeam(user, name, clientIpFromHeaders(await headers()))).slug;
  } catch (e) {
    const err = toAppError(e, { action: "team:create" });
    return { ok: false, message: err.message, fieldErrors: err.fields };
  }
  redirect(`/t/${slug}/apps`);
}
