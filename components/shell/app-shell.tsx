import Link from "next/link";
import { Container, LogOut, Mail } from "lucide-react";
import { Button } from "@/components/ui/button";
import { signOutAction } from "@/app/(auth)/actions";
import { NavLinks } from "./nav-links";
import { TeamSwitcher } from "./team-switcher";

interface ShellProps {
  user: { email: string; name: string | null };
  current: { slug: string; name: string; role: string };
  teams: { slug: string; name: string; role: string }[];
  /** Invitations waiting for the user's answer; a banner points to them. */
  pendingInvitations?: number;
  children: React.ReactNode;
}

/**
 * The signed-in frame: sidebar with team, navigation and account; content on
 * the right. Below md the sidebar becomes a top bar, so phones keep the width.
 */
export function AppShell({ user, current, teams, pendingInvitations = 0, children }: ShellProps) {
  return (
    <div className="flex min-h-screen flex-col md:flex-row">
      <aside className="flex w-full shrink-0 flex-col gap-4 border-b border-zinc-200 bg-white p-4 md:sticky md:top-0 md:h-screen md:w-64 md:gap-6 md:border-r md:border-b-0">
        <Link href="/" className="flex items-center gap-2 px-1 font-semibold">
          <Container className="size-5 text-indigo-600" aria-hidden />
          Gantry
        </Link>
        {teams.length > 1 ? (
          <TeamSwitcher current={current} teams={teams} />
        ) : (
          <div className="rounded-md border border-zinc-200 px-3 py-2 text-sm">
            <span className="block truncate font-semibold" data-testid="current-team">
              {current.name}
            </span>
            <span className="block text-xs capitalize text-zinc-500">{current.role}</span>
          </div>
        )}
        <NavLinks teamSlug={current.slug} />
        <div className="flex flex-wrap items-center gap-2 border-t border-zinc-200 pt-4 md:mt-auto md:grid">
          <p className="min-w-0 flex-1 truncate px-1 text-sm text-zinc-600" data-testid="user-email" title={user.email}>
            {user.name ?? user.email}
          </p>
          <Link href="/invitations" className="flex items-center gap-1.5 px-1 text-sm text-zinc-600 hover:text-zinc-900" data-testid="invitations-link">
            <Mail className="size-4" aria-hidden />
            Invitations
            {pendingInvitations > 0 ? (
              <span className="rounded-full bg-indigo-600 px-1.5 text-xs font-medium text-white" aria-label={`${pendingInvitations} pending`}>
                {pendingInvitations}
              </span>
            ) : null}
          </Link>
          {teams.length <= 1 ? (
            <Link href="/teams/new" className="px-1 text-sm text-zinc-600 hover:text-zinc-900">
              New team
            </Link>
          ) : null}
          <form action={signOutAction}>
            <Button type="submit" variant="ghost" size="sm" className="w-full justify-start">
              <LogOut className="size-4" aria-hidden /> Sign out
            </Button>
          </form>
        </div>
      </aside>
      <main className="min-w-0 flex-1 px-4 py-6 md:px-8 md:py-8">
        {pendingInvitations > 0 ? (
          <div
            className="mb-6 flex flex-wrap items-center justify-between gap-3 rounded-md border border-indigo-200 bg-indigo-50 px-4 py-3 text-sm text-indigo-900"
            data-testid="invitations-banner"
          >
            <span>
              {pendingInvitations === 1 ? "A team has invited you." : `${pendingInvitations} teams have invited you.`} You join only if you accept.
            </span>
            <Link href="/invitations" className="font-medium underline underline-offset-4">
              Review invitations
            </Link>
          </div>
        ) : null}
        {children}
      </main>
    </div>
  );
}
