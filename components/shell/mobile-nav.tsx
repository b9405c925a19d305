"use client";

import { useState } from "react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { Container, Menu, X } from "lucide-react";
import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";

/**
 * The sidebar's contents behind a disclosure below md: a top bar with the logo
 * and a menu button; the panel (team, navigation, account) opens below it.
 * From md up the panel is always shown and the button is hidden. The panel
 * closes on navigation and on Escape (focus returns to the button).
 */
export function MobileNav({ children }: { children: React.ReactNode }) {
  const [open, setOpen] = useState(false);
  const pathname = usePathname();
  const [shownFor, setShownFor] = useState(pathname);
  if (pathname !== shownFor) {
    // A link in the panel was followed: close it for the new page.
    setShownFor(pathname);
    setOpen(false);
  }
  return (
    <>
      <div className="flex items-center justify-between gap-2">
        <Link href="/" className="flex items-center gap-2 px-1 font-semibold">
          <Container className="size-5 text-indigo-600" aria-hidden />
          Gantry
        </Link>
        <Button
          type="button"
          variant="ghost"
          size="icon"
          className="md:hidden"
          aria-expanded={open}
          aria-controls="shell-nav-panel"
          aria-label={open ? "Close menu" : "Open menu"}
          data-testid="mobile-nav-toggle"
          onClick={() => setOpen((o) => !o)}
        >
          {open ? <X className="size-5" aria-hidden /> : <Menu className="size-5" aria-hidden />}
        </Button>
      </div>
      <div
        id="shell-nav-panel"
        data-testid="shell-nav-panel"
        className={cn("flex-col gap-4 pt-4 md:flex md:flex-1 md:gap-6 md:pt-6", open ? "flex" : "hidden")}
        onKeyDown={(e) => {
          if (e.key !== "Escape" || !open) return;
          setOpen(false);
          document.querySelector<HTMLButtonElement>('[aria-controls="shell-nav-panel"]')?.focus();
        }}
      >
        {children}
      </div>
    </>
  );
}
