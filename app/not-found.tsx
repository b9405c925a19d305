import Link from "next/link";
import { SearchX } from "lucide-react";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";

export default function NotFound() {
  return (
    <main className="mx-auto max-w-xl px-4 py-24">
      <EmptyState
        icon={SearchX}
        title="Not found"
        description="This page does not exist, or you do not have access to it."
        action={
          <Button asChild variant="outline">
            <Link href="/">Go to Gantry</Link>
          </Button>
        }
      />
    </main>
  );
}
