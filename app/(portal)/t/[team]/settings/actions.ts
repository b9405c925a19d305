"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { createApiToken, createTokenSchema, revokeApiToken } from "@/lib/api-tokens/tokens";
import { teamNameSchema } from "@/lib/auth/sign-up";
import { teamAction, type ActionResult } from "@/lib/http/team-action";
import { cancelInvitation, inviteMember, inviteSchema } from "@/lib/teams/invitations";
import { changeMemberRole, removeMember, renameTeam, roleSchema } from "@/lib/teams/members";

const withTeam = <T extends z.ZodRawShape>(shape: T) => z.object({ team: z.string(), ...shape });

export const renameTeamAction = teamAction("team:rename", withTeam({ name: teamNameSchema }), async ({ name }, ctx) => {
  await renameTeam(ctx, name);
  revalidatePath(`/t/${ctx.team.slug}`, "layout");
  return { ok: true, message: "Team renamed." };
});

export const inviteMemberAction = teamAction("member:invite", withTeam(inviteSchema.shape), async (input, ctx) => {
  const { message } = await inviteMember(ctx, input);
  revalidatePath(`/t/${ctx.team.slug}/settings`);
  return { ok: true, message };
});

export const cancelInvitationAction = teamAction("member:invite", withTeam({ invitationId: z.string().min(1) }), async ({ invitationId }, ctx) => {
  await cancelInvitation(ctx, invitationId);
  revalidatePath(`/t/${ctx.team.slug}/settings`);
  return { ok: true, message: "Invitation cancelled." };
});

export const changeRoleAction = teamAction(
  "member:change-role",
  withTeam({ membershipId: z.string().min(1), role: roleSchema }),
  async ({ membershipId, role }, ctx) => {
    await changeMemberRole(ctx, membershipId, role);
    revalidatePath(`/t/${ctx.team.slug}/settings`);
    return { ok: true, message: "Role updated." };
  },
);

// Leaving is allowed to every role, so this checks only "team:view" here;
// removeMember() applies the removal rules (managers only, last owner stays).
export const removeMemberAction = teamAction("team:view", withTeam({ membershipId: z.string().min(1) }), async ({ membershipId }, ctx) => {
  const { left } = await removeMember(ctx, membershipId);
  if (left) redirect("/");
  revalidatePath(`/t/${ctx.team.slug}/settings`);
  return { ok: true, message: "Member removed." };
});

export const createTokenAction = teamAction<ReturnType<typeof withTeam<typeof createTokenSchema.shape>>, { token: string; name: string }>(
  "api-token:manage",
  withTeam(createTokenSchema.shape),
  async (input, ctx): Promise<ActionResult<{ token: string; name: string }>> => {
    const created = await createApiToken(ctx, input);
    revalidatePath(`/t/${ctx.team.slug}/settings`);
    return { ok: true, message: "Copy the token now: it will not be shown again.", data: { token: created.token, name: created.name } };
  },
);

export const revokeTokenAction = teamAction("api-token:manage", withTeam({ tokenId: z.string().min(1) }), async ({ tokenId }, ctx) => {
  await revokeApiToken(ctx, tokenId);
  revalidatePath(`/t/${ctx.team.slug}/settings`);
  return { ok: true, message: "Token revoked." };
});
