import { Skeleton } from "@/components/ui/skeleton";

/** While the images load; the header (layout.tsx) is already there. */
export default function RegistryLoading() {
  return (
    <div className="grid gap-4" aria-busy="true" aria-label="Loading">
      <Skeleton className="h-6 w-56" />
      <Skeleton className="h-40 w-full" />
      <Skeleton className="h-28 w-full max-w-3xl" />
    </div>
  );
}
