import type { Metadata } from "next";
import Link from "next/link";
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
import { AppSettingsForm } from "./app-settings-form";
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
  const [page, releases, scope] = await Promise.all([
    listCustomers(ctx.team.id, { ...filters, appId: app.id }),
    listReleases(ctx.team.id, app.slug, { includeArchived: true }),
    appScopeSummary(ctx.team.id, app.slug),
  ]);
  const base = `/t/${ctx.team.slug}/apps/${app.slug}`;
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
              <AppSettingsForm team={ctx.team.slug} app={{ name: app.name, slug: app.slug, slugLocked: app.slugLocked, namespaces: app.additionalNamespaces }} />
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
