import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { PageHeader } from "@/components/shell/page-header";
import { env } from "@/lib/env";
import { teamPageContext } from "@/lib/http/page-context";
import { can } from "@/lib/teams/roles";
import { RegistryForm } from "../registry-form";

export const metadata: Metadata = { title: "Add registry" };

export default async function NewRegistryPage({ params }: { params: Promise<{ team: string }> }) {
  const { ctx } = await teamPageContext((await params).team);
  if (!can(ctx.role, "registry:manage")) notFound();
  return (
    <>
      <PageHeader
        title="Add a registry"
        description="Add each private registry once; every app of the team can use it. Use a read-only robot account or token where the registry offers one."
      />
      <RegistryForm team={ctx.team.slug} ambientAllowed={env().cloud.ambientCredentials} />
    </>
  );
}
