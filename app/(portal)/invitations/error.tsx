"use client";

import { AlertTriangle } from "lucide-react";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";

export default function InvitationsError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="mx-auto max-w-2xl px-4 py-16">
      <EmptyState
        icon={AlertTriangle}
        title="Your invitations could not be loaded"
        description={`Something went wrong on our side.${error.digest ? ` Reference: ${error.digest}.` : ""} Try again, and if it keeps happening, give the reference to your operator.`}
        action={<Button onClick={reset}>Try again</Button>}
      />
    </main>
  );
}
