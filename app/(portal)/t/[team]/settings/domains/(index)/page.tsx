import type { Metadata } from "next";
import { Globe } from "lucide-react";
import { PageHeader } from "@/components/shell/page-header";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { domainUsage, listDomains } from "@/lib/domains/domains";
import { teamPageContext } from "@/lib/http/page-context";
import { can } from "@/lib/teams/roles";
import { AddDomainForm } from "../add-domain-form";
import { DomainCard } from "../domain-card";
import { SettingsTabs } from "../tabs";

export const metadata: Metadata = { title: "Domains" };

export default async function DomainsPage({ params }: { params: Promise<{ team: string }> }) {
  const { ctx } = await teamPageContext((await params).team);
  const [domains, usage] = await Promise.all([listDomains(ctx.team.id), domainUsage(ctx.team.id)]);
  const canManage = can(ctx.role, "domain:manage");
  return (
    <>
      <PageHeader
        title="Settings"
        description="Custom domains: your customers pull from your own names (images.example.com) instead of Gantry's, verified by DNS and served over TLS."
      />
      <SettingsTabs team={ctx.team.slug} current="domains" />
      <div className="grid max-w-4xl min-w-0 gap-6">
        {canManage ? (
          <Card>
            <CardHeader>
              <CardTitle>Add a custom domain</CardTitle>
              <CardDescription>
                A domain serves one face of Gantry: the proxy (customers log in with their license and pull) or Gantry&apos;s own registry. It is used once
                a TXT record proves it is yours; then pick it on each app (or make it the team default).
              </CardDescription>
            </CardHeader>
            <CardContent>
              <AddDomainForm team={ctx.team.slug} />
            </CardContent>
          </Card>
        ) : null}
        {domains.length ? (
          <div className="grid min-w-0 gap-4" data-testid="domains-list">
            {domains.map((d) => (
              <DomainCard key={d.id} team={ctx.team.slug} domain={d} canManage={canManage} apps={usage.get(d.id) ?? 0} linkToDetail />
            ))}
          </div>
        ) : (
          <EmptyState
            icon={Globe}
            title="No custom domains yet"
            description={
              canManage
                ? "Customers pull from Gantry's own host name. Add a domain above to give them yours."
                : "Customers pull from Gantry's own host name. Owners and admins can add custom domains here."
            }
          />
        )}
      </div>
    </>
  );
}
