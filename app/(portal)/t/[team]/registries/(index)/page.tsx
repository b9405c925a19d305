import type { Metadata } from "next";
import Link from "next/link";
import { Boxes, Plus } from "lucide-react";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { PageHeader } from "@/components/shell/page-header";
import { TestStatus } from "@/components/registries/test-status";
import { listRegistries } from "@/lib/registries/registries";
import { teamPageContext } from "@/lib/http/page-context";
import { can } from "@/lib/teams/roles";

export const metadata: Metadata = { title: "Registries" };

export default async function RegistriesPage({ params }: { params: Promise<{ team: string }> }) {
  const { ctx } = await teamPageContext((await params).team);
  const registries = await listRegistries(ctx.team.id);
  const canManage = can(ctx.role, "registry:manage");
  const addButton = canManage ? (
    <Button asChild>
      <Link href={`/t/${ctx.team.slug}/registries/new`}>
        <Plus className="size-4" aria-hidden /> Add registry
      </Link>
    </Button>
  ) : null;
  return (
    <>
      <PageHeader
        title="Registries"
        description="The private registries your images live in. Credentials are stored encrypted and never leave the server; customers pull through Gantry with their license instead."
        actions={registries.length ? addButton : null}
      />
      {registries.length === 0 ? (
        <EmptyState
          icon={Boxes}
          title="No registries yet"
          description="Add the registry that holds your private images (Docker Hub, quay.io, GHCR, ECR, Artifactory…). You do this once per team."
          action={addButton}
        />
      ) : (
        <div className="rounded-lg border border-zinc-200 bg-white">
          <Table data-testid="registries-table">
            <TableHeader>
              <TableRow>
                <TableHead>Name</TableHead>
                <TableHead>Endpoint</TableHead>
                <TableHead>Signs in as</TableHead>
                <TableHead>Proxy path</TableHead>
                <TableHead>Last test</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {registries.map((r) => (
                <TableRow key={r.id} data-testid={`registry-${r.name}`}>
                  <TableCell className="font-medium">
                    <Link href={`/t/${ctx.team.slug}/registries/${r.id}`} className="text-indigo-700 hover:underline">
                      {r.name}
                    </Link>
                  </TableCell>
                  <TableCell className="font-mono text-xs">{r.endpoint}</TableCell>
                  <TableCell className="break-all">
                    {r.kind !== "basic" ? <span className="mr-1 rounded bg-zinc-100 px-1.5 py-0.5 text-xs font-medium uppercase text-zinc-700">{r.kind}</span> : null}
                    {r.username}
                  </TableCell>
                  <TableCell className="font-mono text-xs">{r.pathName}</TableCell>
                  <TableCell>
                    <TestStatus outcome={r.lastTestOutcome} testedAt={r.lastTestedAt} />
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}
    </>
  );
}
