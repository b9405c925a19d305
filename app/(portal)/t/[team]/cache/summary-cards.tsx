import { Card } from "@/components/ui/card";
import { cn } from "@/components/ui/cn";
import { Meter } from "@/components/ui/meter";
import { humanBytes } from "@/lib/format/bytes";
import type { TeamCacheStats } from "@/lib/cache/stats";

export function percent(ratio: number | null): string {
  return ratio === null ? "–" : `${Math.round(ratio * 1000) / 10}%`;
}

function Stat({ label, value, testId, className, children }: { label: string; value: string; testId: string; className?: string; children?: React.ReactNode }) {
  return (
    <Card className={cn("grid min-w-0 content-start gap-1 p-4", className)} data-testid={testId}>
      <p className="text-sm text-zinc-600">{label}</p>
      <p className="text-2xl font-semibold tracking-tight" data-testid={`${testId}-value`}>
        {value}
      </p>
      {children ? <div className="text-xs text-zinc-600">{children}</div> : null}
    </Card>
  );
}

/** The totals: what is stored now (against the limit), and traffic over the chart's period. */
export function SummaryCards({ stats, period }: { stats: TeamCacheStats; period: string }) {
  const s = stats.summary;
  const used = stats.maxBytes > 0 ? Math.min(1, s.storedBytes / stats.maxBytes) : 0;
  const gets = s.hits + s.misses;
  return (
    <div className="grid grid-cols-2 gap-3 sm:gap-4 xl:grid-cols-3">
      <Stat label="Bytes stored" value={humanBytes(s.storedBytes)} testId="cache-stored" className="col-span-2 xl:col-span-1">
        <Meter share={used} label="Share of the cache size limit" className="mb-1 h-1.5" />
        {s.objects} {s.objects === 1 ? "object" : "objects"} · limit {stats.maxBytes > 0 ? humanBytes(stats.maxBytes) : "none (cache off)"}, shared by every team on this Gantry
      </Stat>
      <Stat label={`Hit ratio, ${period}`} value={percent(s.hitRatio)} testId="cache-hit-ratio" className="col-span-2 sm:col-span-1">
        {gets === 0 ? "No pulls in this period." : `${s.hits} of ${gets} ${gets === 1 ? "download" : "downloads"} served from disk`}
      </Stat>
      <Stat label={`Served from cache, ${period}`} value={humanBytes(s.bytesFromCache)} testId="cache-bytes" className="col-span-2 sm:col-span-1">
        {humanBytes(s.bytesFromUpstream)} fetched from your registries
      </Stat>
      <Stat label={`Stale serves, ${period}`} value={String(s.staleServes)} testId="cache-stale">
        Tags answered with their last known digest while your registry was unreachable
      </Stat>
      <Stat label={`Evictions, ${period}`} value={String(s.evictions)} testId="cache-evictions">
        {humanBytes(s.evictedBytes)} removed to stay under the size limit
        {s.digestMismatches > 0 ? (
          <span className="mt-1 block font-medium text-red-700" data-testid="cache-mismatches">
            {s.digestMismatches} {s.digestMismatches === 1 ? "download" : "downloads"} from your registries did not match {s.digestMismatches === 1 ? "its" : "their"} digest: cut short, never served whole or cached
          </span>
        ) : null}
      </Stat>
    </div>
  );
}
