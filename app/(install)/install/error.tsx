"use client";

import { AlertTriangle } from "lucide-react";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";

export default function InstallError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <EmptyState
      icon={AlertTriangle}
      title="This page could not be loaded"
      description={`Something went wrong on our side.${error.digest ? ` Reference: ${error.digest}.` : ""} Try again; if it keeps happening, give the reference to your vendor.`}
      action={<Button onClick={reset}>Try again</Button>}
    />
  );
}
