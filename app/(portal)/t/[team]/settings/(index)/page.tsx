import type { Metadata } from "next";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { RegistryUsageCard } from "@/components/registry/registry-usage";
import { PageHeader } from "@/components/shell/page-header";
import { listApiTokens } from "@/lib/api-tokens/tokens";
import { env } from "@/lib/env";
import { usageOrError } from "@/lib/hosted-registry/usage";
import { listTeamInvitations } from "@/lib/teams/invitations";
import { listMembers } from "@/lib/teams/members";
import { teamPageContext } from "@/lib/http/page-context";
import { can } from "@/lib/teams/roles";
import { MembersSection } from "../members-section";
import { TokensSection } from "../tokens-section";
import { RenameTeamForm } from "../rename-team-form";
import { SettingsTabs } from "../domains/tabs";

export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage({ params }: { params: Promise<{ team: string }> }) {
  const { user, ctx } = await teamPageContext((await params).team);
  const members = await listMembers(ctx.team.id);
  const canInvite = can(ctx.role, "member:invite");
  const invitations = canInvite ? await listTeamInvitations(ctx.team.id) : [];
  const canManageTokens = can(ctx.role, "api-token:manage");
  const tokens = canManageTokens ? await listApiTokens(ctx.team.id) : [];
  const registryUsage = await usageOrError(ctx);
  const { urls } = env();
  return (
    <>
      <PageHeader title="Settings" description={`Team ${ctx.team.name}. Your role: ${ctx.role}.`} />
      <SettingsTabs team={ctx.team.slug} current="general" />
      <div className="grid max-w-4xl gap-6">
        {can(ctx.role, "team:rename") ? <RenameTeamForm team={ctx.team.slug} name={ctx.team.name} /> : null}
        <MembersSection
          team={ctx.team.slug}
          members={members}
          myUserId={user.id}
          canManage={canInvite}
          isOwner={ctx.role === "owner"}
          invitations={invitations.map((i) => ({
            ...i,
            createdAt: i.createdAt.toISOString(),
            expiresAt: i.expiresAt.toISOString(),
          }))}
        />
        {canManageTokens ? (
          <TokensSection
            team={ctx.team.slug}
            tokens={tokens.map((t) => ({
              id: t.id,
              name: t.name,
              role: t.role,
              prefix: t.prefix,
              createdAt: t.createdAt.toISOString(),
              lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
              revokedAt: t.revokedAt?.toISOString() ?? null,
              expiresAt: t.expiresAt?.toISOString() ?? null,
              createdBy: t.createdBy?.email ?? null,
              creatorRole: t.creatorRole,
              expired: t.expired,
            }))}
          />
        ) : null}
        {registryUsage ? <RegistryUsageCard usage={registryUsage} /> : null}
        <Card>
          <CardHeader>
            <CardTitle>Public URLs</CardTitle>
            <CardDescription>
              Set by the operator through the environment (GANTRY_PUBLIC_URL, GANTRY_PROXY_URL, GANTRY_REGISTRY_URL; see the README). Customers log in to
              the proxy&apos;s host; its scheme is what their clients are told to use.
            </CardDescription>
          </CardHeader>
          <CardContent>
            <dl className="grid grid-cols-1 gap-x-4 gap-y-1 text-sm sm:grid-cols-[8rem_1fr] sm:gap-y-2">
              <dt className="text-zinc-600">Portal</dt>
              <dd className="font-mono break-all" data-testid="portal-url">
                {urls.portal.origin}
              </dd>
              <dt className="text-zinc-600">Proxy</dt>
              <dd className="font-mono break-all" data-testid="proxy-url">
                {urls.proxy.origin}
                {urls.proxy.scheme === "http" ? <span className="block font-sans break-normal text-zinc-600">(plain http: customers list {urls.proxy.host} as an insecure registry)</span> : null}
              </dd>
              <dt className="text-zinc-600">Registry</dt>
              <dd className="font-mono break-all" data-testid="registry-url">
                {urls.registry?.origin ?? "not exposed"}
              </dd>
            </dl>
          </CardContent>
        </Card>
      </div>
    </>
  );
}
