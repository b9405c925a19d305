import Link from "next/link";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { humanBytes } from "@/lib/format/bytes";
import type { TeamCacheStats } from "@/lib/cache/stats";
import { percent } from "./summary-cards";

/** Per app: what it has stored, and its traffic over the period. Scrolls sideways inside its box on phones. */
export function CacheAppsTable({ apps, teamSlug }: { apps: TeamCacheStats["apps"]; teamSlug: string }) {
  return (
    <Table data-testid="cache-apps-table">
      <TableHeader>
        <TableRow>
          <TableHead>App</TableHead>
          <TableHead className="text-right">Stored</TableHead>
          <TableHead className="text-right">Objects</TableHead>
          <TableHead className="text-right">Hit ratio</TableHead>
          <TableHead className="text-right">From cache</TableHead>
          <TableHead className="text-right">From registry</TableHead>
          <TableHead className="text-right">Stale</TableHead>
          <TableHead className="text-right">Evictions</TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {apps.map((a) => (
          <TableRow key={a.slug} data-app={a.slug}>
            <TableCell>
              <Link href={`/t/${teamSlug}/apps/${a.slug}`} className="font-medium text-indigo-700 hover:underline">
                {a.name}
              </Link>
            </TableCell>
            <TableCell className="text-right whitespace-nowrap">{humanBytes(a.storedBytes)}</TableCell>
            <TableCell className="text-right">{a.objects}</TableCell>
            <TableCell className="text-right" data-testid="app-hit-ratio">
              {percent(a.hitRatio)}
            </TableCell>
            <TableCell className="text-right whitespace-nowrap">{humanBytes(a.bytesFromCache)}</TableCell>
            <TableCell className="text-right whitespace-nowrap">{humanBytes(a.bytesFromUpstream)}</TableCell>
            <TableCell className="text-right">{a.staleServes}</TableCell>
            <TableCell className="text-right">{a.evictions}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
