"use client";

import { AlertTriangle } from "lucide-react";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";

export default function DomainsError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <EmptyState
      icon={AlertTriangle}
      title="The domains could not be loaded"
      description={`Something went wrong on our side.${error.digest ? ` Reference: ${error.digest}.` : ""} Try again; customers' pulls are not affected by this page.`}
      action={<Button onClick={reset}>Try again</Button>}
    />
  );
}
