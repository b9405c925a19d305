import type { Metadata } from "next";
import Link from "next/link";
import { PageHeader } from "@/components/shell/page-header";
import { domainUsage, getDomain } from "@/lib/domains/domains";
import { orNotFound } from "@/lib/http/or-not-found";
import { teamPageContext } from "@/lib/http/page-context";
import { can } from "@/lib/teams/roles";
import { DomainCard } from "../domain-card";

export const metadata: Metadata = { title: "Domain" };

/** One domain; another team's (or a missing) one is a 404, like everywhere in the portal. */
export default async function DomainPage({ params }: { params: Promise<{ team: string; id: string }> }) {
  const { team, id } = await params;
  const { ctx } = await teamPageContext(team);
  const domain = await orNotFound(getDomain(ctx.team.id, id));
  const usage = await domainUsage(ctx.team.id);
  return (
    <>
      <PageHeader
        title={domain.name}
        description={`Custom ${domain.service} domain of ${ctx.team.name}.`}
        actions={
          <Link href={`/t/${ctx.team.slug}/settings/domains`} className="text-sm text-zinc-600 hover:underline">
            All domains
          </Link>
        }
      />
      <div className="grid max-w-4xl min-w-0 gap-6">
        <DomainCard team={ctx.team.slug} domain={domain} canManage={can(ctx.role, "domain:manage")} apps={usage.get(domain.id) ?? 0} />
      </div>
    </>
  );
}
