import type { Metadata } from "next";
import Link from "next/link";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { CustomersTable } from "@/components/licenses/customers-table";
import { getApp } from "@/lib/apps/apps";
import { orNotFound } from "@/lib/http/or-not-found";
import { listCustomers, listCustomersSchema } from "@/lib/licenses/customers";
import { listReleases } from "@/lib/releases/releases";
import { appScopeSummary } from "@/lib/releases/scope";
import { teamPageContext } from "@/lib/http/page-context";
import { can } from "@/lib/teams/roles";
import { appDomainPicks, appDomainProblems, appDomains, ownDomains, teamDefaultHosts, teamVerifiedHosts } from "@/lib/domains/app-domains";
import { AppSettingsForm } from "./app-settings-form";
import { DomainsForm } from "./domains-form";
import { NewCustomerForm } from "./new-customer-form";
import { PatternsForm } from "./patterns-form";
import { ReleasesSection } from "./releases-section";

export const metadata: Metadata = { title: "App" };

export default async function AppPage({
  params,
  searchParams,
}: {
  params: Promise<{ team: string; slug: string }>;
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const { team, slug } = await params;
  const { ctx } = await teamPageContext(team);
  const app = await orNotFound(getApp(ctx.team.id, slug));
  const parsed = listCustomersSchema.safeParse(await searchParams);
  const filters = parsed.success ? parsed.data : {};
  const [page, releases, scope, domains, picks, verifiedHosts, teamDefaults, domainProblems] = await Promise.all([
    listCustomers(ctx.team.id, { ...filters, appId: app.id }),
    listReleases(ctx.team.id, app.slug, { includeArchived: true }),
    appScopeSummary(ctx.team.id, app.slug),
    appDomains(ctx.team.id, app.id),
    appDomainPicks(ctx.team.id, app.slug),
    teamVerifiedHosts(ctx.team.id),
    teamDefaultHosts(ctx.team.id),
    appDomainProblems(ctx.team.id, app.id),
  ]);
  const base = `/t/${ctx.team.slug}/apps/${app.slug}`;
  const own = ownDomains();
  const ownHosts = { proxy: own.proxy.host, registry: own.registry?.host ?? null };
  const patterns = scope.patterns;
  return (
    <>
      <PageHeader
        title={app.name}
        description={`Slug ${app.slug} · ${app.licenseCount} license${app.licenseCount === 1 ? "" : "s"}`}
        actions={
          <>
            <Button asChild variant="outline">
              <Link href={`/t/${ctx.team.slug}/apps/${app.slug}/images`}>Images and rewrite preview</Link>
            </Button>
            <Button asChild variant="outline">
              <Link href={`/t/${ctx.team.slug}/apps/${app.slug}/registry`}>Registry</Link>
            </Button>
          </>
        }
      />
      <div className="grid grid-cols-1 gap-6">
        <ReleasesSection base={base} releases={releases} canManage={can(ctx.role, "app:manage")} allowsNothing={scope.allowsNothing} />
        <section className="grid grid-cols-1 gap-3" aria-labelledby="customers-heading">
          <h2 id="customers-heading" className="text-lg font-semibold">
            Customers
          </h2>
          <CustomersTable team={ctx.team.slug} page={page} basePath={`/t/${ctx.team.slug}/apps/${app.slug}`} filters={filters} showApp={false} />
        </section>
        {can(ctx.role, "customer:manage") ? (
          <Card className="max-w-2xl">
            <CardHeader>
              <CardTitle>Add a customer</CardTitle>
              <CardDescription>Each customer gets a license: their credential for pulling your private images through Gantry.</CardDescription>
            </CardHeader>
            <CardContent>
              <NewCustomerForm team={ctx.team.slug} app={app.slug} />
            </CardContent>
          </Card>
        ) : null}
        <Card className="max-w-2xl">
          <CardHeader>
            <CardTitle>Extra repository patterns</CardTitle>
            <CardDescription>
              A license pulls the private images of the app&apos;s active releases. Add patterns for repositories the manifests do not show (a chart&apos;s
              hooks, images an operator creates at run time).
            </CardDescription>
          </CardHeader>
          <CardContent>
            {can(ctx.role, "app:manage") ? (
              <PatternsForm team={ctx.team.slug} app={app.slug} patterns={patterns} />
            ) : patterns.length ? (
              <ul className="grid gap-1 font-mono text-sm" data-testid="patterns-list">
                {patterns.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            ) : (
              <p className="text-sm text-zinc-600">No extra patterns.</p>
            )}
          </CardContent>
        </Card>
        <Card className="max-w-2xl" data-testid="app-domains">
          <CardHeader>
            <CardTitle>Custom domains</CardTitle>
            <CardDescription>
              Customers pull from <code className="font-mono break-all" data-testid="app-proxy-domain">{domains.proxy.host}</code>
              {domains.registry ? (
                <>
                  {" "}
                  and Gantry&apos;s registry is <code className="font-mono break-all" data-testid="app-registry-domain">{domains.registry.host}</code>
                </>
              ) : null}
              : the previews, installers, pull secrets and license files use these names. Releases keep the names they were made with.
            </CardDescription>
          </CardHeader>
          <CardContent className="grid gap-3">
            {domainProblems.map((p) => (
              <Alert key={p} variant="warning" data-testid="app-domain-problem">
                <AlertDescription className="break-words">{p}</AlertDescription>
              </Alert>
            ))}
            {can(ctx.role, "app:manage") ? (
              <DomainsForm
                team={ctx.team.slug}
                app={app.slug}
                domainsHref={`/t/${ctx.team.slug}/settings/domains`}
                proxy={{ picked: picks.proxyDomain ?? "", fallback: teamDefaults.proxy ?? ownHosts.proxy, options: verifiedHosts.proxy }}
                registry={ownHosts.registry ? { picked: picks.registryDomain ?? "", fallback: teamDefaults.registry ?? ownHosts.registry, options: verifiedHosts.registry } : null}
              />
            ) : (
              <p className="text-sm text-zinc-600">Owners and admins pick the app&apos;s domains among the team&apos;s verified ones.</p>
            )}
          </CardContent>
        </Card>
        <Card className="max-w-2xl">
          <CardHeader>
            <CardTitle>App settings</CardTitle>
            <CardDescription>
              {app.slugLocked
                ? `The slug is locked: customers' image paths (…/proxy/${app.slug}/…) already use it.`
                : "The slug can change until the app has its first license."}
            </CardDescription>
          </CardHeader>
          <CardContent>
            {can(ctx.role, "app:manage") ? (
              <AppSettingsForm team={ctx.team.slug} app={{ name: app.name, slug: app.slug, slugLocked: app.slugLocked, namespaces: app.additionalNamespaces, chartPullSecret: app.chartPullSecret, installPage: app.installPage }} />
            ) : (
              <p className="text-sm text-zinc-600">
                Slug <code className="font-mono">{app.slug}</code>. Additional namespaces:{" "}
                {app.additionalNamespaces.length ? app.additionalNamespaces.join(", ") : "none"}.
              </p>
            )}
          </CardContent>
        </Card>
      </div>
    </>
  );
}
