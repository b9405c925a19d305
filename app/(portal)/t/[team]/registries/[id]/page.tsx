import type { Metadata } from "next";
import Link from "next/link";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { TestStatus } from "@/components/registries/test-status";
import { orNotFound } from "@/lib/http/or-not-found";
import { env } from "@/lib/env";
import { credentialState } from "@/lib/registries/cloud/sources";
import { getRegistry } from "@/lib/registries/registries";
import { kindName } from "@/lib/registries/kind-names";
import { CredentialStatus } from "./credential-status";
import { teamPageContext } from "@/lib/http/page-context";
import { can } from "@/lib/teams/roles";
import { RegistryForm } from "../registry-form";
import { DeleteRegistryButton } from "./delete-registry-button";
import { TestConnectionForm } from "./test-connection-form";

export const metadata: Metadata = { title: "Registry" };

export default async function RegistryPage({
  params,
  searchParams,
}: {
  params: Promise<{ team: string; id: string }>;
  searchParams: Promise<{ created?: string }>;
}) {
  const { team, id } = await params;
  const { ctx } = await teamPageContext(team);
  const registry = await orNotFound(getRegistry(ctx.team.id, id));
  const canManage = can(ctx.role, "registry:manage");
  const { created } = await searchParams;
  const tokenState = registry.kind === "basic" ? null : await credentialState(ctx.team.id, registry.id);
  return (
    <>
      <PageHeader
        title={registry.name}
        description={`${registry.endpoint} · images as ${registry.imageHost}/… · proxy path ${registry.pathName}`}
        actions={
          <Link href={`/t/${ctx.team.slug}/registries`} className="text-sm text-zinc-600 hover:underline">
            All registries
          </Link>
        }
      />
      <div className="grid max-w-3xl gap-6">
        {created ? (
          <Alert variant="success">
            <AlertDescription>Registry added. Test the connection to check the credentials.</AlertDescription>
          </Alert>
        ) : null}
        <Card>
          <CardHeader>
            <CardTitle>Connection</CardTitle>
            <CardDescription>
              Last test: <TestStatus outcome={registry.lastTestOutcome} testedAt={registry.lastTestedAt} />
              {registry.lastTestMessage ? <span className="mt-1 block">{registry.lastTestMessage}</span> : null}
            </CardDescription>
          </CardHeader>
          {registry.kind !== "basic" ? (
            <CardContent className="border-t border-zinc-100 pt-4">
              <CredentialStatus kind={registry.kind} identity={registry.username} state={tokenState} />
            </CardContent>
          ) : null}
          {canManage ? (
            <CardContent>
              <TestConnectionForm team={ctx.team.slug} id={registry.id} />
            </CardContent>
          ) : null}
        </Card>
        {canManage ? (
          <Card>
            <CardHeader>
              <CardTitle>Settings</CardTitle>
            </CardHeader>
            <CardContent className="grid gap-6">
              <RegistryForm
                team={ctx.team.slug}
                existing={{ id: registry.id, name: registry.name, endpoint: registry.endpoint, username: registry.username, pathName: registry.pathName, kind: registry.kind, cloud: registry.cloud }}
                ambientAllowed={env().cloud.ambientCredentials}
              />
              <div className="border-t border-zinc-100 pt-4">
                <DeleteRegistryButton team={ctx.team.slug} id={registry.id} name={registry.name} />
              </div>
            </CardContent>
          </Card>
        ) : (
          <Card>
            <CardContent className="pt-6 text-sm text-zinc-600">
              {kindName(registry.kind)} as <span className="font-medium text-zinc-900">{registry.username}</span>. Owners and admins can change this registry.
            </CardContent>
          </Card>
        )}
      </div>
    </>
  );
}
