"use client";

import Link from "next/link";
import { Check, ChevronsUpDown, Plus } from "lucide-react";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";

interface TeamOption {
  slug: string;
  name: string;
  role: string;
}

/** Shows the current team; with several teams it opens a menu to switch. */
export function TeamSwitcher({ current, teams }: { current: TeamOption; teams: TeamOption[] }) {
  return (
    <DropdownMenu>
      <DropdownMenuTrigger
        className="flex w-full items-center justify-between gap-2 rounded-md border border-zinc-200 bg-white px-3 py-2 text-left text-sm shadow-xs hover:bg-zinc-50 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
        data-testid="team-switcher"
      >
        <span className="min-w-0">
          <span className="block truncate font-semibold" data-testid="current-team">
            {current.name}
          </span>
          <span className="block text-xs capitalize text-zinc-500">{current.role}</span>
        </span>
        <ChevronsUpDown className="size-4 shrink-0 text-zinc-400" aria-hidden />
      </DropdownMenuTrigger>
      <DropdownMenuContent align="start" className="w-60">
        <DropdownMenuLabel>Teams</DropdownMenuLabel>
        {teams.map((t) => (
          <DropdownMenuItem key={t.slug} asChild>
            <Link href={`/t/${t.slug}/apps`} className="flex items-center justify-between">
              <span className="truncate">{t.name}</span>
              {t.slug === current.slug ? <Check className="size-4" aria-label="current team" /> : null}
            </Link>
          </DropdownMenuItem>
        ))}
        <DropdownMenuSeparator />
        <DropdownMenuItem asChild>
          <Link href="/teams/new" className="flex items-center gap-2">
            <Plus className="size-4" aria-hidden /> New team
          </Link>
        </DropdownMenuItem>
      </DropdownMenuContent>
    </DropdownMenu>
  );
}
