import type { Metadata } from "next";
import { Container } from "lucide-react";

export const metadata: Metadata = { title: "Install" };

/** The customer's install page: no portal navigation, no vendor account. */
export default function InstallLayout({ children }: { children: React.ReactNode }) {
  return (
    <div className="min-h-screen bg-zinc-50">
      <header className="border-b border-zinc-200 bg-white">
        <div className="mx-auto flex max-w-5xl items-center gap-2 px-4 py-3 text-base font-semibold">
          <Container className="size-5 text-indigo-600" aria-hidden />
          Install
        </div>
      </header>
      <main className="mx-auto grid max-w-5xl min-w-0 gap-6 px-4 py-6">{children}</main>
    </div>
  );
}
