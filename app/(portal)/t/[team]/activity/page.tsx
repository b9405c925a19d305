import type { Metadata } from "next";
import Link from "next/link";
import { Activity } from "lucide-react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { PageHeader } from "@/components/shell/page-header";
import { describeAction } from "@/lib/activity/actions";
import { listActivity } from "@/lib/activity/list";
import { cursorSchema } from "@/lib/pagination/keyset";
import { listTeamPulls } from "@/lib/licenses/pulls";
import { PullsTable } from "@/components/licenses/pulls-table";
import { teamPageContext } from "@/lib/http/page-context";

export const metadata: Metadata = { title: "Activity" };

function details(metadata: Record<string, unknown>): string {
  return Object.entries(metadata)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(" · ");
}

export default async function ActivityPage({
  params,
  searchParams,
}: {
  params: Promise<{ team: string }>;
  searchParams: Promise<{ before?: string; show?: string }>;
}) {
  const { ctx } = await teamPageContext((await params).team);
  const { before, show } = await searchParams;
  const tabs = (
    <div className="mb-4 flex gap-2 text-sm" role="tablist" aria-label="Activity">
      <Link role="tab" aria-selected={show !== "pulls"} href={`/t/${ctx.team.slug}/activity`} className={show !== "pulls" ? "font-semibold" : "text-zinc-600 hover:underline"}>
        Changes
      </Link>
      <Link role="tab" aria-selected={show === "pulls"} href={`/t/${ctx.team.slug}/activity?show=pulls`} className={show === "pulls" ? "font-semibold" : "text-zinc-600 hover:underline"}>
        Pulls
      </Link>
    </div>
  );
  if (show === "pulls") {
    const pulls = await listTeamPulls(ctx.team.id);
    return (
      <>
        <PageHeader title="Activity" description="Registry-proxy requests made with your customers' licenses, newest first." />
        {tabs}
        {pulls.length === 0 ? (
          <EmptyState icon={Activity} title="No pulls yet" description="Pulls through the registry proxy show up here." />
        ) : (
          <div className="rounded-lg border border-zinc-200 bg-white">
            <PullsTable showCustomer pulls={pulls.map((p) => ({ ...p, customer: `${p.license.customer.name} (${p.license.app.slug})` }))} />
          </div>
        )}
      </>
    );
  }
  // A stale or hand-edited cursor shows the first page rather than an error page.
  const cursor = before && cursorSchema.safeParse(before).success ? before : undefined;
  const page = await listActivity(ctx.team.id, { before: cursor });
  return (
    <>
      <PageHeader title="Activity" description="Who did what in this team, newest first. The log is append-only." />
      {tabs}
      {page.events.length === 0 ? (
        <EmptyState icon={Activity} title="No activity yet" description="Sign-ins and changes to the team will show up here." />
      ) : (
        <div className="rounded-lg border border-zinc-200 bg-white">
          <Table data-testid="activity-table">
            <TableHeader>
              <TableRow>
                <TableHead className="w-48">When</TableHead>
                <TableHead>Who</TableHead>
                <TableHead>What</TableHead>
                <TableHead>Details</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {page.events.map((e) => (
                <TableRow key={e.id} data-action={e.action}>
                  <TableCell className="whitespace-nowrap text-zinc-600">
                    <time dateTime={e.createdAt.toISOString()}>{e.createdAt.toISOString().replace("T", " ").slice(0, 19)} UTC</time>
                  </TableCell>
                  <TableCell>
                    {e.actorLabel}
                    {e.actorType !== "user" ? (
                      <Badge variant="secondary" className="ml-2">
                        {e.actorType === "api_token" ? "API" : "system"}
                      </Badge>
                    ) : null}
                  </TableCell>
                  <TableCell>{describeAction(e.action)}</TableCell>
                  <TableCell className="text-zinc-600">{details(e.metadata)}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}
      <div className="mt-4 flex gap-2">
        {cursor ? (
          <Button asChild variant="outline" size="sm">
            <Link href={`/t/${ctx.team.slug}/activity`}>Newest</Link>
          </Button>
        ) : null}
        {page.nextCursor ? (
          <Button asChild variant="outline" size="sm">
            <Link href={`/t/${ctx.team.slug}/activity?before=${page.nextCursor}`}>Older</Link>
          </Button>
        ) : null}
      </div>
    </>
  );
}
