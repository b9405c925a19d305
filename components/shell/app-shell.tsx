import Link from "next/link";
import { LogOut, Mail } from "lucide-react";
import { Button } from "@/components/ui/button";
import { MobileNav } from "./mobile-nav";
import { NavLinks } from "./nav-links";
import { TeamSwitcher } from "./team-switcher";

interface ShellProps {
  user: { email: string; name: string | null };
  current: { slug: string; name: string; role: string };
  teams: { slug: string; name: string; role: string }[];
  /** Invitations waiting for the user's answer; a banner points to them. */
  pendingInvitations?: number;
  /** The sign-out server action (passed in: components do not import from app/). */
  signOut: () => Promise<void>;
  children: React.ReactNode;
}

/**
 * The signed-in frame: sidebar with team, navigation and account; content on
 * the right. Below md the sidebar becomes a top bar whose menu button opens the
 * navigation, so phones keep the width. The aside stretches with the page (its
 * background spans the full height); its contents stick to the viewport.
 */
export function AppShell({ user, current, teams, pendingInvitations = 0, signOut, children }: ShellProps) {
  return (
    <div className="flex min-h-screen flex-col md:flex-row">
      <aside className="w-full shrink-0 border-b border-zinc-200 bg-white md:w-64 md:border-r md:border-b-0" data-testid="sidebar">
        <div className="flex flex-col p-4 md:sticky md:top-0 md:max-h-screen md:min-h-screen md:overflow-y-auto">
          <MobileNav>
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
            <div className="grid gap-2 border-t border-zinc-200 pt-4 md:mt-auto">
              <p className="min-w-0 truncate px-1 text-sm text-zinc-600" data-testid="user-email" title={user.email}>
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
              <form action={signOut}>
                <Button type="submit" variant="ghost" size="sm" className="w-full justify-start">
                  <LogOut className="size-4" aria-hidden /> Sign out
                </Button>
              </form>
            </div>
          </MobileNav>
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
