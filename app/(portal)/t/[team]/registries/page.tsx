import type { Metadata } from "next";
import { Boxes } from "lucide-react";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/shell/page-header";
import { teamPageContext } from "@/lib/teams/page-context";

export const metadata: Metadata = { title: "Registries" };

export default async function RegistriesPage({ params }: { params: Promise<{ team: string }> }) {
  await teamPageContext((await params).team);
  return (
    <>
      <PageHeader title="Registries" description="The private registries your images live in. Credentials are stored encrypted and never leave the server." />
      <EmptyState icon={Boxes} title="Nothing here yet" description="Adding registries arrives with the external-registries work." />
    </>
  );
}
