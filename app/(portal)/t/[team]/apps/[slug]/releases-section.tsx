import Link from "next/link";
import { Plus, Tag } from "lucide-react";
import { StatusCounts } from "@/components/releases/image-status";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import type { listReleases } from "@/lib/releases/releases";

type ReleaseSummary = Awaited<ReturnType<typeof listReleases>>[number];

/** The app page's Releases: newest version first, with image counts by status. */
export function ReleasesSection({ base, releases, canManage, allowsNothing }: { base: string; releases: ReleaseSummary[]; canManage: boolean; allowsNothing: boolean }) {
  const newRelease = canManage ? (
    <Button asChild>
      <Link href={`${base}/releases/new`}>
        <Plus className="size-4" aria-hidden /> New release
      </Link>
    </Button>
  ) : null;
  return (
    <section className="grid grid-cols-1 gap-3" aria-labelledby="releases-heading">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 id="releases-heading" className="text-lg font-semibold">
          Releases
        </h2>
        {releases.length ? newRelease : null}
      </div>
      {allowsNothing ? (
        <Alert variant="warning" data-testid="allows-nothing">
          <AlertDescription>Customers can pull nothing yet: create a release, or add a repository pattern.</AlertDescription>
        </Alert>
      ) : null}
      {releases.length ? (
        <div className="rounded-lg border border-zinc-200 bg-white">
          <Table data-testid="releases-table">
            <TableHeader>
              <TableRow>
                <TableHead>Version</TableHead>
                <TableHead>Images</TableHead>
                <TableHead className="hidden sm:table-cell">Created</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {releases.map((r) => (
                <TableRow key={r.id} data-testid="release-row" className={r.archivedAt ? "text-zinc-500" : undefined}>
                  <TableCell className="align-top">
                    <Link href={`${base}/releases/${encodeURIComponent(r.version)}`} className="font-mono font-medium text-indigo-700 hover:underline">
                      {r.version}
                    </Link>
                    {r.archivedAt ? (
                      <Badge variant="outline" className="ml-2">
                        archived
                      </Badge>
                    ) : null}
                    {r.notes ? <p className="mt-0.5 line-clamp-1 max-w-xs text-xs text-zinc-500">{r.notes}</p> : null}
                  </TableCell>
                  <TableCell className="align-top">
                    <StatusCounts counts={r.counts} />
                  </TableCell>
                  <TableCell className="hidden align-top text-sm whitespace-nowrap text-zinc-600 sm:table-cell">
                    <time dateTime={r.createdAt.toISOString()}>{r.createdAt.toISOString().slice(0, 10)}</time>
                    <span className="block text-xs text-zinc-500">{r.createdByLabel}</span>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      ) : (
        <EmptyState
          icon={Tag}
          className="py-10"
          title="No releases yet"
          description="A release keeps the app's manifests and images as shipped, probed once, and bounds what each license can pull."
          action={newRelease}
        />
      )}
    </section>
  );
}
