import type { Metadata } from "next";
import { PageHeader } from "@/components/shell/page-header";
import { CustomersTable } from "@/components/licenses/customers-table";
import { listCustomers, listCustomersSchema } from "@/lib/licenses/customers";
import { teamPageContext } from "@/lib/http/page-context";

export const metadata: Metadata = { title: "Customers" };

export default async function CustomersPage({
  params,
  searchParams,
}: {
  params: Promise<{ team: string }>;
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const { ctx } = await teamPageContext((await params).team);
  const parsed = listCustomersSchema.safeParse(await searchParams);
  const filters = parsed.success ? parsed.data : {};
  const page = await listCustomers(ctx.team.id, filters);
  return (
    <>
      <PageHeader title="Customers" description="Every customer of every app in this team, with their license state. Add customers from an app's page." />
      <CustomersTable team={ctx.team.slug} page={page} basePath={`/t/${ctx.team.slug}/customers`} filters={filters} showApp />
    </>
  );
}
