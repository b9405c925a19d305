import { apiRoute } from "@/lib/http/api-route";
import { listMembers } from "@/lib/teams/members";

// GET /api/v1/team — the token's team and its members
export const GET = apiRoute({ permission: "team:view" }, async (ctx) => {
  const members = await listMembers(ctx.team.id);
  return {
    body: {
      team: ctx.team,
      members: members.map((m) => ({ id: m.id, role: m.role, joinedAt: m.createdAt, user: m.user })),
    },
  };
});
