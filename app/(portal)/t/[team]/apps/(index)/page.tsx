import type { Metadata } from "next";
import Link from "next/link";
import { Package } from "lucide-react";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { PageHeader } from "@/components/shell/page-header";
import { listApps } from "@/lib/apps/apps";
import { teamPageContext } from "@/lib/http/page-context";
import { can } from "@/lib/teams/roles";
import { NewAppForm } from "../new-app-form";

export const metadata: Metadata = { title: "Apps" };

export default async function AppsPage({ params }: { params: Promise<{ team: string }> }) {
  const { ctx } = await teamPageContext((await params).team);
  const apps = await listApps(ctx.team.id);
  const canManage = can(ctx.role, "app:manage");
  return (
    <>
      <PageHeader
        title="Apps"
        description="Your Kubernetes applications. Each app has a unique slug that appears in every image path customers pull through Gantry."
      />
      <div className="grid gap-6">
        {apps.length === 0 ? (
          <EmptyState icon={Package} title="No apps yet" description={canManage ? "Create your first app below." : "Owners and admins create apps."} />
        ) : (
          <div className="rounded-lg border border-zinc-200 bg-white">
            <Table data-testid="apps-table">
              <TableHeader>
                <TableRow>
                  <TableHead>App</TableHead>
                  <TableHead>Slug</TableHead>
                  <TableHead>Customers</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {apps.map((a) => (
                  <TableRow key={a.id}>
                    <TableCell>
                      <Link href={`/t/${ctx.team.slug}/apps/${a.slug}`} className="font-medium text-indigo-700 hover:underline">
                        {a.name}
                      </Link>
                    </TableCell>
                    <TableCell className="font-mono text-xs">{a.slug}</TableCell>
                    <TableCell>{a.customerCount}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </div>
        )}
        {canManage ? (
          <Card className="max-w-xl">
            <CardHeader>
              <CardTitle>New app</CardTitle>
              <CardDescription>The slug is part of every image path customers pull; it locks once the app has its first license.</CardDescription>
            </CardHeader>
            <CardContent>
              <NewAppForm team={ctx.team.slug} />
            </CardContent>
          </Card>
        ) : null}
      </div>
    </>
  );
}
