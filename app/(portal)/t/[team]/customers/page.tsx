import type { Metadata } from "next";
import { Users } from "lucide-react";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/shell/page-header";
import { teamPageContext } from "@/lib/teams/page-context";

export const metadata: Metadata = { title: "Customers" };

export default async function CustomersPage({ params }: { params: Promise<{ team: string }> }) {
  await teamPageContext((await params).team);
  return (
    <>
      <PageHeader title="Customers" description="The customers of your apps, each with a license to pull your private images." />
      <EmptyState icon={Users} title="Nothing here yet" description="Customers arrive with the apps-and-licenses work." />
    </>
  );
}
