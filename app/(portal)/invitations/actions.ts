"use server";

import { headers } from "next/headers";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { requireUser } from "@/lib/auth/session";
import { clientIpFromHeaders } from "@/lib/net/client-ip";
import { toAppError } from "@/lib/http/map-error";
import type { ActionResult } from "@/lib/http/team-action";
import { acceptInvitation, declineInvitation } from "@/lib/teams/invitations";

const schema = z.object({ invitationId: z.string().min(1) });

// Accept or decline an invitation addressed to the signed-in user's email. The
// invitation is looked up by id AND the user's email, so another user's id does nothing.
export async function acceptInvitationAction(_prev: ActionResult, formData: FormData): Promise<ActionResult> {
  let slug: string;
  try {
    const user = await requireUser();
    const { invitationId } = schema.parse(Object.fromEntries(formData));
    slug = (await acceptInvitation(user, invitationId, clientIpFromHeaders(await headers()))).team.slug;
  } catch (e) {
    const err = toAppError(e, { action: "invitation:accept" });
    return { ok: false, message: err.message };
  }
  revalidatePath("/", "layout");
  redirect(`/t/${slug}/apps`);
}

export async function declineInvitationAction(_prev: ActionResult, formData: FormData): Promise<ActionResult> {
  try {
    const user = await requireUser();
    const { invitationId } = schema.parse(Object.fromEntries(formData));
    await declineInvitation(user, invitationId, clientIpFromHeaders(await headers()));
  } catch (e) {
    const err = toAppError(e, { action: "invitation:decline" });
    return { ok: false, message: err.message };
  }
  revalidatePath("/", "layout");
  return { ok: true, message: "Invitation declined." };
}
