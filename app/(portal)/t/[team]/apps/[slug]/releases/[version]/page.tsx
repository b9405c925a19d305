import type { Metadata } from "next";
import Link from "next/link";
import { Suspense } from "react";
import { notFound, unstable_rethrow } from "next/navigation";
import { Download } from "lucide-react";
import { PageHeader } from "@/components/shell/page-header";
import { ImageTable } from "@/components/releases/image-table";
import { StatusCounts } from "@/components/releases/image-status";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { getApp } from "@/lib/apps/apps";
import { toAppError } from "@/lib/http/map-error";
import { orNotFound } from "@/lib/http/or-not-found";
import { getCustomer, listCustomers } from "@/lib/licenses/customers";
import { installerForLicense } from "@/lib/releases/installer";
import { getRelease } from "@/lib/releases/releases";
import { teamPageContext } from "@/lib/http/page-context";
import { can } from "@/lib/teams/roles";
import { AirgapSize } from "./airgap-size";
import { CustomerPicker } from "./customer-picker";
import { InstallerFiles } from "./installer-files";
import { ReleaseControls } from "./release-controls";

export const metadata: Metadata = { title: "Release" };

const when = (d: Date) => `${d.toISOString().replace("T", " ").slice(0, 16)} UTC`;

/** Next hands dynamic segments over still percent-encoded in some cases; a bad escape is simply not a version. */
function decodeSegment(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    notFound();
  }
}

export default async function ReleasePage({
  params,
  searchParams,
}: {
  params: Promise<{ team: string; slug: string; version: string }>;
  searchParams: Promise<{ customer?: string; created?: string }>;
}) {
  const { team, slug, version: rawVersion } = await params;
  const version = decodeSegment(rawVersion);
  const { ctx } = await teamPageContext(team);
  const app = await orNotFound(getApp(ctx.team.id, slug));
  const release = await orNotFound(getRelease(ctx.team.id, app.slug, version));
  const { customer: customerId, created } = await searchParams;
  const base = `/t/${ctx.team.slug}/apps/${app.slug}`;
  const releaseHref = `${base}/releases/${encodeURIComponent(release.version)}`;
  const canManage = can(ctx.role, "app:manage");
  const canInstall = can(ctx.role, "license:view-secret");

  const customers = canInstall ? (await listCustomers(ctx.team.id, { appId: app.id, pageSize: 200 })).customers : [];
  let installer: { customerName: string; commands: { label: string; text: string }[]; files: { path: string; content: string }[]; domainNote: string | null } | null = null;
  let installerProblem = "";
  if (canInstall && customerId) {
    const customer = await getCustomer(ctx.team.id, customerId).catch(() => null);
    if (!customer || customer.app.slug !== app.slug) {
      installerProblem = "That customer is not a customer of this app.";
    } else {
      try {
        const result = await installerForLicense(ctx, app.slug, release.version, customer.license.id);
        installer = {
          customerName: customer.name,
          commands: [
            { label: "docker login", text: result.commands.dockerLogin },
            { label: "kubectl apply", text: result.commands.kubectlApply },
            { label: "helm", text: result.commands.helm },
          ],
          files: result.files,
          // Built for a customer now: the app's current domains, which may differ from the release's stored files.
          domainNote: result.domains.changed
            ? `These files use the app's current domains (${[result.domains.proxy, result.domains.registry].filter(Boolean).join(", ")}); release ${release.version} was made with ${[result.domains.releaseProxy, result.domains.releaseRegistry].filter(Boolean).join(", ")}, which its stored files keep.`
            : null,
        };
      } catch (e) {
        // The rest of the release stays usable; an unexpected failure is logged with a generic message.
        unstable_rethrow(e);
        installerProblem = `The installer could not be generated: ${toAppError(e, { page: "release installer" }).message}`;
      }
    }
  }

  return (
    <>
      <PageHeader
        title={`${app.name} ${release.version}`}
        description={release.notes || undefined}
        actions={
          <Link href={base} className="text-sm text-zinc-600 hover:underline">
            Back to {app.name}
          </Link>
        }
      />
      <div className="grid grid-cols-1 gap-6">
        {created ? (
          <Alert variant="success">
            <AlertDescription>Release {release.version} created and probed. Pick a customer below for their installer.</AlertDescription>
          </Alert>
        ) : null}
        <Card>
          <CardContent className="grid grid-cols-1 gap-4 pt-6">
            <dl className="grid gap-x-6 gap-y-2 text-sm sm:grid-cols-[10rem_1fr]" data-testid="release-facts">
              <dt className="text-zinc-600">State</dt>
              <dd>
                {release.archivedAt ? (
                  <Badge variant="outline" data-testid="release-state">
                    archived {release.archivedAt.toISOString().slice(0, 10)}
                  </Badge>
                ) : (
                  <Badge variant="success" data-testid="release-state">
                    active
                  </Badge>
                )}
              </dd>
              <dt className="text-zinc-600">Created</dt>
              <dd>
                {when(release.createdAt)} by {release.createdByLabel}
              </dd>
              {release.proxyHost ? (
                <>
                  <dt className="text-zinc-600">Made with</dt>
                  <dd className="font-mono break-all" data-testid="release-domains">
                    {[release.proxyHost, release.registryHost].filter(Boolean).join(", ")}
                  </dd>
                </>
              ) : null}
              <dt className="text-zinc-600">Last probed</dt>
              <dd>{when(release.lastProbedAt)}</dd>
              <dt className="text-zinc-600">Images</dt>
              <dd>
                <StatusCounts counts={release.counts} />
              </dd>
            </dl>
            {canManage ? <ReleaseControls team={ctx.team.slug} app={app.slug} version={release.version} archived={!!release.archivedAt} /> : null}
          </CardContent>
        </Card>

        <section className="grid grid-cols-1 gap-3" aria-labelledby="images-heading">
          <h2 id="images-heading" className="text-lg font-semibold">
            Images
          </h2>
          <ImageTable images={release.images} />
        </section>

        {release.charts.length ? (
          <section className="grid grid-cols-1 gap-3" aria-labelledby="charts-heading" data-testid="release-charts">
            <h2 id="charts-heading" className="text-lg font-semibold">
              Helm charts
            </h2>
            <ul className="grid gap-2">
              {release.charts.map((c) => (
                <li key={c.reference} className="rounded-lg border border-zinc-200 bg-white px-4 py-3 text-sm shadow-xs">
                  <div className="flex flex-wrap items-baseline gap-x-2">
                    <span className="font-medium">{c.name}</span>
                    <span className="font-mono">{c.tag}</span>
                    {c.appVersion ? <span className="text-zinc-500">app {c.appVersion}</span> : null}
                  </div>
                  <code className="block font-mono text-xs text-zinc-600 wrap-anywhere">oci://{c.reference.replace(/:[^:/]+$/, "")}</code>
                  <code className="block font-mono text-xs text-zinc-500 wrap-anywhere" title="The chart's digest when the release was created">
                    {c.digest}
                  </code>
                </li>
              ))}
            </ul>
          </section>
        ) : null}

        <Card>
          <CardHeader>
            <CardTitle>Air-gap bundle</CardTitle>
            <CardDescription>
              For clusters that never reach the internet: one file with every image of this release (the platforms below), its charts and a push.sh that copies the images into
              the customer&apos;s own registry. Pick a customer below to download theirs; customers can also download it from their install page.
            </CardDescription>
          </CardHeader>
          <CardContent className="grid grid-cols-1 gap-3">
            <Suspense
              fallback={
                <p className="text-sm text-zinc-500" role="status">
                  Measuring the bundle…
                </p>
              }
            >
              <AirgapSize teamId={ctx.team.id} appSlug={app.slug} version={release.version} />
            </Suspense>
            <p className="text-sm text-zinc-600" data-testid="airgap-platforms">
              Multi-arch images:{" "}
              {release.platforms.length ? (
                <>
                  only <span className="font-mono text-zinc-900">{release.platforms.join(", ")}</span>
                </>
              ) : (
                "every platform"
              )}
              ; public images {release.airgapPublic ? "included" : "left out"}.
            </p>
            <p className="text-sm text-zinc-600">
              Build it ahead, so the first download streams from the cache:{" "}
              <code className="font-mono text-xs wrap-anywhere">
                npm run gantry -- airgap warm {app.slug} {release.version}
              </code>
            </p>
          </CardContent>
        </Card>

        <Card>
          <CardHeader>
            <CardTitle>Installer for a customer</CardTitle>
            <CardDescription>
              The commands and files a customer applies for this release. They carry the customer&apos;s license ID, so only owners and admins see them.
            </CardDescription>
          </CardHeader>
          <CardContent className="grid grid-cols-1 gap-4">
            {!canInstall ? (
              <p className="text-sm text-zinc-600">Ask an owner or admin for a customer&apos;s installer.</p>
            ) : customers.length === 0 ? (
              <p className="text-sm text-zinc-600">
                This app has no customers yet. <Link href={base} className="text-indigo-700 hover:underline">Add a customer</Link> first.
              </p>
            ) : (
              <>
                <CustomerPicker
                  action={releaseHref}
                  selected={installer ? (customerId ?? "") : ""}
                  customers={customers.map((c) => ({ id: c.id, label: `${c.name} (…${c.license?.fingerprint ?? ""})${c.license && c.license.state !== "active" ? ` — ${c.license.state}` : ""}` }))}
                />
                {installerProblem ? (
                  <Alert variant="destructive">
                    <AlertDescription>{installerProblem}</AlertDescription>
                  </Alert>
                ) : null}
                {installer ? (
                  <div className="grid grid-cols-1 gap-4" data-testid="installer">
                    <div className="flex flex-wrap items-center justify-between gap-2">
                      <p className="text-sm text-zinc-600">
                        For <span className="font-medium text-zinc-900">{installer.customerName}</span>
                      </p>
                      <Button asChild variant="outline">
                        <a href={`${releaseHref}/bundle?customer=${encodeURIComponent(customerId ?? "")}`} download data-testid="download-bundle">
                          <Download className="size-4" aria-hidden /> Download all (zip)
                        </a>
                      </Button>
                      <Button asChild variant="outline">
                        <a href={`${releaseHref}/airgap?customer=${encodeURIComponent(customerId ?? "")}`} download data-testid="download-airgap">
                          <Download className="size-4" aria-hidden /> Air-gap bundle (tar)
                        </a>
                      </Button>
                    </div>
                    {installer.domainNote ? (
                      <Alert variant="warning" data-testid="installer-domains">
                        <AlertDescription className="break-words">{installer.domainNote}</AlertDescription>
                      </Alert>
                    ) : null}
                    <InstallerFiles commands={installer.commands} files={installer.files} />
                  </div>
                ) : null}
              </>
            )}
          </CardContent>
        </Card>
      </div>
    </>
  );
}
