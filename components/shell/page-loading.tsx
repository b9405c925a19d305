import { Skeleton } from "@/components/ui/skeleton";

/**
 * The skeleton shown while a portal page loads. It is used by loading.tsx files
 * at list pages only, never above a page that can answer 404: a loading
 * boundary streams the response, and a streamed page can no longer change its
 * status from 200 to 404.
 */
export function PageLoading() {
  return (
    <div className="grid gap-4" aria-busy="true" aria-label="Loading">
      <Skeleton className="h-8 w-48" />
      <Skeleton className="h-4 w-96" />
      <Skeleton className="h-40 w-full" />
    </div>
  );
}
