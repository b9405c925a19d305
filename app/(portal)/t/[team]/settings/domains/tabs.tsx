import Link from "next/link";
import { cn } from "@/components/ui/cn";

/** Settings' sections: the team's general settings and its custom domains. */
export function SettingsTabs({ team, current }: { team: string; current: "general" | "domains" }) {
  const tabs = [
    { key: "general", label: "General", href: `/t/${team}/settings` },
    { key: "domains", label: "Domains", href: `/t/${team}/settings/domains` },
  ] as const;
  return (
    <nav aria-label="Settings sections" className="mb-6 flex gap-1 border-b border-zinc-200">
      {tabs.map((t) => (
        <Link
          key={t.key}
          href={t.href}
          aria-current={t.key === current ? "page" : undefined}
          className={cn("-mb-px border-b-2 px-3 py-2 text-sm", t.key === current ? "border-indigo-600 font-medium text-zinc-900" : "border-transparent text-zinc-600 hover:text-zinc-900")}
        >
          {t.label}
        </Link>
      ))}
    </nav>
  );
}
