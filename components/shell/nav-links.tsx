"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { Activity, Boxes, HardDrive, Package, Settings, Users } from "lucide-react";
import { cn } from "@/components/ui/cn";

const ITEMS = [
  { segment: "apps", label: "Apps", icon: Package },
  { segment: "registries", label: "Registries", icon: Boxes },
  { segment: "customers", label: "Customers", icon: Users },
  { segment: "cache", label: "Cache", icon: HardDrive },
  { segment: "activity", label: "Activity", icon: Activity },
  { segment: "settings", label: "Settings", icon: Settings },
] as const;

export function NavLinks({ teamSlug }: { teamSlug: string }) {
  const pathname = usePathname();
  return (
    <nav aria-label="Main" className="grid gap-1">
      {ITEMS.map(({ segment, label, icon: Icon }) => {
        const href = `/t/${teamSlug}/${segment}`;
        const active = pathname === href || pathname.startsWith(`${href}/`);
        return (
          <Link
            key={segment}
            href={href}
            aria-current={active ? "page" : undefined}
            className={cn(
              "flex shrink-0 items-center gap-2 rounded-md px-3 py-2 text-sm font-medium text-zinc-600 hover:bg-zinc-100 hover:text-zinc-900",
              active && "bg-zinc-100 text-zinc-900",
            )}
          >
            <Icon className="size-4" aria-hidden />
            {label}
          </Link>
        );
      })}
    </nav>
  );
}
