"use client";

import { AlertTriangle } from "lucide-react";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";

/** The images could not be read; the header (layout.tsx) stays, with the way back. */
export default function RegistryError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <EmptyState
      icon={AlertTriangle}
      title="The registry's images could not be loaded"
      description={`Something went wrong on our side.${error.digest ? ` Reference: ${error.digest}.` : ""} Try again, and if it keeps happening, give the reference to your operator.`}
      action={<Button onClick={reset}>Try again</Button>}
    />
  );
}
