import Link from "next/link";
import { Container, LogOut } from "lucide-react";
import { Button } from "@/components/ui/button";
import { signOutAction } from "@/app/(auth)/actions";
import { NavLinks } from "./nav-links";
import { TeamSwitcher } from "./team-switcher";

interface ShellProps {
  user: { email: string; name: string | null };
  current: { slug: string; name: string; role: string };
  teams: { slug: string; name: string; role: string }[];
  children: React.ReactNode;
}

/** The signed-in frame: sidebar with team, navigation and account; content on the right. */
export function AppShell({ user, current, teams, children }: ShellProps) {
  return (
    <div className="flex min-h-screen">
      <aside className="sticky top-0 flex h-screen w-64 shrink-0 flex-col gap-6 border-r border-zinc-200 bg-white p-4">
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
        <div className="mt-auto grid gap-2 border-t border-zinc-200 pt-4">
          <p className="truncate px-1 text-sm text-zinc-600" data-testid="user-email" title={user.email}>
            {user.name ?? user.email}
          </p>
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
      <main className="min-w-0 flex-1 px-8 py-8">{children}</main>
    </div>
  );
}
