import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Download } from "lucide-react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { CopyButton } from "@/components/ui/copy-button";
import { PageHeader } from "@/components/shell/page-header";
import { LicenseBadge } from "@/components/licenses/license-badge";
import { PullsTable } from "@/components/licenses/pulls-table";
import { appDomains } from "@/lib/domains/app-domains";
import { orNotFound } from "@/lib/http/or-not-found";
import { getCustomer, revealLicenseId } from "@/lib/licenses/customers";
import { listLicensePulls } from "@/lib/licenses/pulls";
import { listReleases } from "@/lib/releases/releases";
import { teamPageContext } from "@/lib/http/page-context";
import { can } from "@/lib/teams/roles";
import { ExpiryForm } from "./expiry-form";
import { PinForm } from "./pin-form";
import { RevokeRestore } from "./revoke-restore";

export const metadata: Metadata = { title: "Customer" };

export default async function CustomerPage({
  params,
  searchParams,
}: {
  params: Promise<{ team: string; slug: string; id: string }>;
  searchParams: Promise<{ created?: string }>;
}) {
  const { team, slug, id } = await params;
  const { ctx } = await teamPageContext(team);
  const customer = await orNotFound(getCustomer(ctx.team.id, id));
  if (customer.app.slug !== slug) notFound();
  const l = customer.license;
  const canSeeSecret = can(ctx.role, "license:view-secret");
  const licenseId = canSeeSecret ? await revealLicenseId(ctx.team.id, l.id) : null;
  const { created } = await searchParams;
  const [pulls, domains] = await Promise.all([listLicensePulls(ctx.team.id, l.id, 20), appDomains(ctx.team.id, customer.app.id)]);
  const base = `/t/${ctx.team.slug}/apps/${customer.app.slug}/customers/${customer.id}`;
  const canManage = can(ctx.role, "customer:manage");
  const versions = canManage ? (await listReleases(ctx.team.id, customer.app.slug, { includeArchived: true })).map((r) => r.version) : [];
  const pin = { maxVersion: l.maxVersion, releasedBefore: l.releasedBefore };
  const pinText = [pin.maxVersion ? `releases up to ${pin.maxVersion}` : null, pin.releasedBefore ? `releases published before ${pin.releasedBefore.toISOString().slice(0, 10)}` : null]
    .filter(Boolean)
    .join(" and ");
  return (
    <>
      <PageHeader
        title={customer.name}
        description={`${customer.type} customer of ${customer.app.name}${customer.email ? ` · ${customer.email}` : ""}`}
        actions={
          <Link href={`/t/${ctx.team.slug}/apps/${customer.app.slug}`} className="text-sm text-zinc-600 hover:underline">
            All customers of {customer.app.name}
          </Link>
        }
      />
      <div className="grid max-w-3xl grid-cols-1 gap-6">
        {created ? (
          <Alert variant="success">
            <AlertDescription>Customer created with a license. Send them the license file.</AlertDescription>
          </Alert>
        ) : null}
        <Card>
          <CardHeader>
            <CardTitle className="flex items-center gap-3">
              License <LicenseBadge state={l.state} daysLeft={l.daysLeft} />
            </CardTitle>
            <CardDescription>
              The customer logs in to <code className="font-mono break-all" data-testid="customer-proxy-host">{domains.proxy.host}</code> with the license ID
              (<code className="font-mono break-all">docker login {domains.proxy.host} -u LICENSE_ID</code>) and pulls your private images through Gantry.
            </CardDescription>
          </CardHeader>
          <CardContent className="grid gap-4">
            <dl className="grid grid-cols-[7rem_minmax(0,1fr)] items-center gap-y-2 text-sm sm:grid-cols-[10rem_minmax(0,1fr)]">
              <dt className="text-zinc-600">License ID</dt>
              <dd className="flex min-w-0 flex-wrap items-center gap-2">
                {licenseId ? (
                  <>
                    <code className="rounded bg-zinc-100 px-2 py-1 font-mono text-xs break-all" data-testid="license-id">
                      {licenseId}
                    </code>
                    <CopyButton value={licenseId} label="Copy ID" />
                  </>
                ) : (
                  <code className="font-mono text-xs" data-testid="license-fingerprint">
                    …{l.fingerprint}
                  </code>
                )}
              </dd>
              <dt className="text-zinc-600">Expires</dt>
              <dd>{l.expiresAt ? `${l.expiresAt.toISOString().slice(0, 10)}` : "never"}</dd>
              <dt className="text-zinc-600">Issued</dt>
              <dd>{l.createdAt.toISOString().slice(0, 10)}</dd>
              {l.revokedAt ? (
                <>
                  <dt className="text-zinc-600">Revoked</dt>
                  <dd data-testid="revoked-info">
                    {l.revokedAt.toISOString().replace("T", " ").slice(0, 16)} UTC by {l.revokedByLabel ?? "unknown"}
                    {l.revokeReason ? ` — ${l.revokeReason}` : ""}
                  </dd>
                </>
              ) : null}
            </dl>
            <div className="flex flex-wrap gap-2">
              {canSeeSecret ? (
                <Button asChild variant="outline">
                  <a href={`${base}/license`} download data-testid="download-license">
                    <Download className="size-4" aria-hidden /> Download license file
                  </a>
                </Button>
              ) : null}
              <Button asChild variant="ghost">
                <a href={`/t/${ctx.team.slug}/settings/license-public-key`} download>
                  Public signing key
                </a>
              </Button>
              {can(ctx.role, "license:revoke") ? (
                <RevokeRestore
                  team={ctx.team.slug}
                  app={customer.app.slug}
                  customerId={customer.id}
                  customerName={customer.name}
                  licenseRowId={l.id}
                  revoked={l.state === "revoked"}
                />
              ) : null}
            </div>
          </CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardTitle>Pulls</CardTitle>
            <CardDescription data-testid="last-pull">
              {pulls[0] ? `Last pull ${pulls[0].createdAt.toISOString().replace("T", " ").slice(0, 19)} UTC (${pulls[0].repository}, HTTP ${pulls[0].status}).` : "No pulls yet."}
            </CardDescription>
          </CardHeader>
          {pulls.length ? (
            <CardContent>
              <PullsTable pulls={pulls} />
            </CardContent>
          ) : null}
        </Card>
        <Card>
          <CardHeader>
            <CardTitle>Pinning</CardTitle>
            <CardDescription data-testid="current-pin">
              {pinText
                ? `Pinned: this license reaches only ${pinText}.`
                : "Not pinned: this license reaches every active release. Limit it to releases up to a version, or published before a day (a trial that should not receive newer versions)."}
            </CardDescription>
          </CardHeader>
          {canManage ? (
            <CardContent>
              <PinForm
                team={ctx.team.slug}
                app={customer.app.slug}
                customerId={customer.id}
                licenseRowId={l.id}
                maxVersion={pin.maxVersion ?? ""}
                releasedBefore={pin.releasedBefore ? pin.releasedBefore.toISOString().slice(0, 10) : ""}
                versions={versions}
              />
            </CardContent>
          ) : null}
        </Card>
        {canManage ? (
          <Card>
            <CardHeader>
              <CardTitle>Expiry</CardTitle>
              <CardDescription>Extending or removing the expiry takes effect on the customer&apos;s next pull.</CardDescription>
            </CardHeader>
            <CardContent>
              <ExpiryForm
                team={ctx.team.slug}
                app={customer.app.slug}
                customerId={customer.id}
                licenseRowId={l.id}
                expiresAt={l.expiresAt ? l.expiresAt.toISOString().slice(0, 10) : ""}
              />
            </CardContent>
          </Card>
        ) : null}
      </div>
    </>
  );
}
