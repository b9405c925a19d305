import { signOutAction } from "@/app/(auth)/actions";
import { AppShell } from "@/components/shell/app-shell";
import { listUserTeams } from "@/lib/teams/access";
import { countMyInvitations } from "@/lib/teams/invitations";
import { teamPageContext } from "@/lib/http/page-context";

export default async function TeamLayout({ children, params }: { children: React.ReactNode; params: Promise<{ team: string }> }) {
  const { team } = await params;
  const { user, ctx } = await teamPageContext(team);
  const [memberships, pendingInvitations] = await Promise.all([listUserTeams(user.id), countMyInvitations(user)]);
  const teams = memberships.map((m) => ({ slug: m.team.slug, name: m.team.name, role: m.role }));
  return (
    <AppShell user={user} current={{ slug: ctx.team.slug, name: ctx.team.name, role: ctx.role }} teams={teams} pendingInvitations={pendingInvitations} signOut={signOutAction}>
      {children}
    </AppShell>
  );
}
