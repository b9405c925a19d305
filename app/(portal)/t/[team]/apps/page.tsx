import type { Metadata } from "next";
import { Package } from "lucide-react";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/shell/page-header";
import { teamPageContext } from "@/lib/teams/page-context";

export const metadata: Metadata = { title: "Apps" };

export default async function AppsPage({ params }: { params: Promise<{ team: string }> }) {
  await teamPageContext((await params).team);
  return (
    <>
      <PageHeader title="Apps" description="Your Kubernetes applications. Each app has a unique slug that appears in every image path customers pull through Gantry." />
      <EmptyState icon={Package} title="Nothing here yet" description="Apps arrive with the apps-and-licenses work: create one, then add customers and licenses." />
    </>
  );
}
