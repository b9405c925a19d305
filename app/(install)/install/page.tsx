import { cookies } from "next/headers";
import { Download, KeyRound, LogOut, Package } from "lucide-react";
import { PullsTable } from "@/components/licenses/pulls-table";
import { LicenseBadge } from "@/components/licenses/license-badge";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { CopyButton } from "@/components/ui/copy-button";
import { EmptyState } from "@/components/ui/empty-state";
import { env } from "@/lib/env";
import { customerView, PULL_DAYS, PULLS_SHOWN, type CustomerView, type InstallRelease } from "@/lib/install/portal";
import { INSTALL_COOKIE, installSession } from "@/lib/install/session";
import { installSignOutAction } from "./actions";
import { PullsChart } from "./pulls-chart";
import { InstallSignInForm } from "./sign-in-form";

export const dynamic = "force-dynamic";

const day = (d: Date) => d.toISOString().slice(0, 10);

function Snippet({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="grid gap-1.5">
      <div className="flex items-center justify-between gap-2">
        <span className="text-xs font-medium text-zinc-600">{label}</span>
        <CopyButton value={value} label={`Copy: ${label}`} text="Copy" variant="ghost" className="h-7 px-2" />
      </div>
      <pre className="overflow-x-auto rounded-md bg-zinc-950 p-3 font-mono text-xs leading-relaxed whitespace-pre-wrap text-zinc-100 wrap-anywhere" data-testid={testId}>
        {value}
      </pre>
    </div>
  );
}

function ReleaseCard({ release, view, latest }: { release: InstallRelease; view: CustomerView; latest: boolean }) {
  const airgapPath = `/install/releases/${encodeURIComponent(release.version)}/airgap`;
  const helm = release.commands.helmLogin ? [release.commands.helmLogin, ...release.commands.helmInstall].join("\n") : null;
  return (
    <Card data-testid="install-release" data-version={release.version}>
      <CardHeader>
        <CardTitle className="flex flex-wrap items-center gap-2">
          <Package className="size-4 text-zinc-500" aria-hidden />
          <span className="font-mono">{release.version}</span>
          {latest ? <span className="rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-700">latest</span> : null}
        </CardTitle>
        <CardDescription>
          Released {day(release.createdAt)}
          {release.notes ? ` · ${release.notes}` : ""}
        </CardDescription>
      </CardHeader>
      <CardContent className="grid min-w-0 gap-4">
        {helm ? (
          <Snippet
            label={`Helm: sign in with your license (set ${view.licenseEnv} first), then install`}
            value={helm}
            testId="install-helm-commands"
          />
        ) : null}
        <Snippet label="kubectl: unzip the installer files and apply them" value={release.commands.kubectl} testId="install-kubectl-commands" />
        <div className="flex flex-wrap gap-2">
          <Button asChild variant="outline">
            <a href={`/install/releases/${encodeURIComponent(release.version)}/bundle`} download data-testid="install-bundle">
              <Download className="size-4" aria-hidden /> Installer files (.zip)
            </a>
          </Button>
          <Button asChild variant="outline">
            <a href={airgapPath} download data-testid="install-airgap">
              <Download className="size-4" aria-hidden /> Air-gap bundle (.tar)
            </a>
          </Button>
        </div>
        <Snippet
          label="No internet in your cluster? Download the air-gap bundle (resumable), then follow its README: push.sh copies every image into your registry"
          value={`curl -fC - -u "LICENSE_ID:$${view.licenseEnv}" -o ${view.app.slug}-${release.version}-airgap.tar ${env().urls.portal.origin}${airgapPath}`}
          testId="install-airgap-command"
        />
      </CardContent>
    </Card>
  );
}

function SignIn() {
  return (
    <div className="mx-auto grid w-full max-w-md gap-4 py-6">
      <div className="grid gap-1">
        <h1 className="text-xl font-semibold">Install your software</h1>
        <p className="text-sm text-zinc-600">Sign in with the license ID your vendor gave you to see what you may install, the commands and your downloads.</p>
      </div>
      <Card>
        <CardContent className="pt-6">
          <InstallSignInForm />
        </CardContent>
      </Card>
    </div>
  );
}

export default async function InstallPage() {
  const session = await installSession((await cookies()).get(INSTALL_COOKIE)?.value);
  if (!session) return <SignIn />;
  const view = await customerView(session);
  const active = view.license.state === "active";
  return (
    <>
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="grid min-w-0 gap-1">
          <h1 className="text-xl font-semibold wrap-anywhere" data-testid="install-app">
            {view.app.name}
          </h1>
          <p className="text-sm text-zinc-600 wrap-anywhere">
            For {view.customer}, from {view.app.vendor}
          </p>
        </div>
        <form action={installSignOutAction}>
          <Button type="submit" variant="outline">
            <LogOut className="size-4" aria-hidden /> Sign out
          </Button>
        </form>
      </div>

      <Card data-testid="install-license">
        <CardHeader>
          <CardTitle className="flex items-center gap-2">
            <KeyRound className="size-4 text-zinc-500" aria-hidden /> Your license
          </CardTitle>
        </CardHeader>
        <CardContent className="grid gap-4">
          <dl className="grid grid-cols-1 gap-3 text-sm sm:grid-cols-2 lg:grid-cols-4">
            <div>
              <dt className="text-zinc-500">State</dt>
              <dd>
                <LicenseBadge state={view.license.state} />
              </dd>
            </div>
            <div>
              <dt className="text-zinc-500">Type</dt>
              <dd className="capitalize">{view.license.type}</dd>
            </div>
            <div>
              <dt className="text-zinc-500">Expires</dt>
              <dd data-testid="install-expiry">
                {view.license.expiresAt ? `${day(view.license.expiresAt)}${view.license.daysLeft !== null && active ? ` (${view.license.daysLeft} days left)` : ""}` : "Never"}
              </dd>
            </div>
            <div className="min-w-0">
              <dt className="text-zinc-500">Fingerprint</dt>
              <dd className="font-mono text-xs break-all">{view.license.fingerprint}</dd>
            </div>
          </dl>
          {view.license.pin ? <p className="text-sm text-zinc-600">Your license covers releases {view.license.pin}.</p> : null}
          {active ? (
            <div>
              <Button asChild variant="outline">
                <a href="/install/license" download data-testid="install-license-file">
                  <Download className="size-4" aria-hidden /> License file
                </a>
              </Button>
            </div>
          ) : (
            <Alert variant="destructive">
              <AlertDescription>
                {view.license.state === "revoked" ? "This license has been revoked" : "This license has expired"}: nothing can be installed or pulled with it. Contact{" "}
                {view.app.vendor} to restore access.
              </AlertDescription>
            </Alert>
          )}
        </CardContent>
      </Card>

      {active ? (
        <section className="grid min-w-0 gap-4" aria-labelledby="releases-heading">
          <h2 id="releases-heading" className="text-lg font-semibold">
            Releases you may install
          </h2>
          {view.releases.length === 0 ? (
            <EmptyState icon={Package} title="Nothing to install yet" description={`${view.app.vendor} has not published a release your license covers. Check back later, or ask them.`} />
          ) : (
            view.releases.map((r, i) => <ReleaseCard key={r.version} release={r} view={view} latest={i === 0} />)
          )}
        </section>
      ) : null}

      <section className="grid min-w-0 gap-4" aria-labelledby="pulls-heading" data-testid="install-pulls">
        <div className="grid gap-1">
          <h2 id="pulls-heading" className="text-lg font-semibold">
            Your pulls
          </h2>
          <p className="text-sm text-zinc-600">
            Requests made with your license to {view.hosts.proxy}
            {view.hosts.registry ? ` and ${view.hosts.registry}` : ""}: per day for the last {PULL_DAYS} days, and the last {PULLS_SHOWN} one by one.
          </p>
        </div>
        {view.pulls.length === 0 ? (
          <EmptyState icon={Download} title="No pulls yet" description="Once your cluster pulls an image or a chart with this license, it shows here." />
        ) : (
          <div className="grid min-w-0 gap-4">
            <Card>
              <CardContent className="pt-6">
                <PullsChart days={view.daily.map((d) => ({ day: d.day, requests: d.requests }))} />
              </CardContent>
            </Card>
            <div className="min-w-0 overflow-x-auto rounded-lg border border-zinc-200 bg-white">
              <PullsTable pulls={view.pulls} />
            </div>
          </div>
        )}
      </section>
    </>
  );
}
