import type { Metadata } from "next";
import Link from "next/link";
import { HardDrive } from "lucide-react";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/shell/page-header";
import { TrafficChart } from "@/components/cache/traffic-chart";
import { parseCacheRange, teamCacheStats, type CacheRange } from "@/lib/cache/stats";
import { teamDefaultHosts } from "@/lib/domains/app-domains";
import { env } from "@/lib/env";
import { humanBytes } from "@/lib/format/bytes";
import { teamPageContext } from "@/lib/http/page-context";
import { CacheAppsTable } from "./apps-table";
import { SummaryCards } from "./summary-cards";

export const metadata: Metadata = { title: "Cache" };

const PERIOD: Record<CacheRange, string> = { "48h": "last 48 hours", "14d": "last 14 days" };

export default async function CachePage({ params, searchParams }: { params: Promise<{ team: string }>; searchParams: Promise<{ range?: string | string[] }> }) {
  const { ctx } = await teamPageContext((await params).team);
  const range = parseCacheRange((await searchParams).range);
  const stats = await teamCacheStats(ctx.team.id, { range });
  // The team's default proxy domain when it has one: the name its customers see.
  const proxyHost = (await teamDefaultHosts(ctx.team.id)).proxy ?? env().proxyDomain;
  const off = stats.maxBytes === 0 ? (
    <Alert variant="warning" className="mb-6" data-testid="cache-off">
      <AlertTitle>The cache is off on this Gantry</AlertTitle>
      <AlertDescription>GANTRY_CACHE_MAX_BYTES is 0, so every pull is fetched from your registry. Ask your operator to set a size to turn it on.</AlertDescription>
    </Alert>
  ) : null;
  const header = (
    <PageHeader
      title="Cache"
      description="Gantry keeps the image layers and manifests your customers pull on its own disk, so the next pull of the same content does not reach your registry. These numbers cover this team's apps."
    />
  );

  if (!stats.used) {
    const example = stats.apps[0]?.slug ?? "<app-slug>";
    return (
      <>
        {header}
        {off}
        <EmptyState
          icon={HardDrive}
          title="No cache traffic yet"
          description={`When a customer pulls one of your apps' images through the proxy (docker pull ${proxyHost}/proxy/${example}/…), Gantry fetches each layer from your registry once and keeps it. Later pulls of the same content, by any of the app's customers, are served from disk. Bytes stored, hit ratio, bytes served from cache and from your registry over time, stale serves and evictions will show here. Cache size limit: ${stats.maxBytes > 0 ? humanBytes(stats.maxBytes) : "none (cache off)"}.`}
          className="py-12"
        />
      </>
    );
  }

  const tab = (value: CacheRange, label: string) => (
    <Link
      role="tab"
      aria-selected={range === value}
      href={`/t/${ctx.team.slug}/cache?range=${value}`}
      className={range === value ? "font-semibold" : "text-zinc-600 hover:underline"}
    >
      {label}
    </Link>
  );
  return (
    <>
      {header}
      {off}
      <div className="grid min-w-0 gap-6">
        <SummaryCards stats={stats} period={PERIOD[range]} />
        <Card className="min-w-0">
          <CardHeader className="flex flex-wrap items-start justify-between gap-3 sm:flex-row">
            <div className="grid gap-1">
              <CardTitle>Bytes served</CardTitle>
              <CardDescription>From Gantry&apos;s cache and from your registries, {range === "48h" ? "per hour" : "per day"} (UTC).</CardDescription>
            </div>
            <div className="flex gap-3 text-sm" role="tablist" aria-label="Period">
              {tab("14d", "14 days")}
              {tab("48h", "48 hours")}
            </div>
          </CardHeader>
          <CardContent className="min-w-0 px-2 sm:px-6" data-testid="cache-chart">
            <TrafficChart points={stats.series} unit={range === "48h" ? "hour" : "day"} />
          </CardContent>
        </Card>
        <Card className="min-w-0">
          <CardHeader>
            <CardTitle>By app</CardTitle>
            <CardDescription>Content shared by several apps counts for each of them, and once in the total above.</CardDescription>
          </CardHeader>
          <CardContent className="px-0 sm:px-0">
            <CacheAppsTable apps={stats.apps} teamSlug={ctx.team.slug} />
          </CardContent>
        </Card>
      </div>
    </>
  );
}
