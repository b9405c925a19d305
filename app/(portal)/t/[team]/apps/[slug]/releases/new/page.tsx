import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { PageHeader } from "@/components/shell/page-header";
import { Card, CardContent } from "@/components/ui/card";
import { getApp } from "@/lib/apps/apps";
import { chartsOfApp } from "@/lib/charts/pushed-charts";
import { appRegistryUrl } from "@/lib/domains/app-domains";
import { orNotFound } from "@/lib/http/or-not-found";
import { latestRelease } from "@/lib/releases/releases";
import { teamPageContext } from "@/lib/http/page-context";
import { can } from "@/lib/teams/roles";
import { NewReleaseForm } from "./new-release-form";

export const metadata: Metadata = { title: "New release" };

/** "1.4.2" → "1.4.3", "v2.0.0-rc.1" → "v2.0.0-rc.2"; anything else → "" (no guess). */
function suggestNext(version: string): string {
  const m = /^(v?\d+\.\d+\.)(\d+)$/.exec(version) ?? /^(v?\d+\.\d+\.\d+-[0-9A-Za-z.-]*?\.)(\d+)$/.exec(version);
  return m ? `${m[1]}${Number(m[2]) + 1}` : "";
}

export default async function NewReleasePage({ params }: { params: Promise<{ team: string; slug: string }> }) {
  const { team, slug } = await params;
  const { ctx } = await teamPageContext(team);
  const app = await orNotFound(getApp(ctx.team.id, slug));
  // Creating is for admins; a member following a link sees the 404 page, like any action they cannot take.
  if (!can(ctx.role, "app:manage")) notFound();
  const [latest, pushed, registry] = await Promise.all([latestRelease(ctx.team.id, app.slug), chartsOfApp(app.id), appRegistryUrl(ctx.team.id, app.id)]);
  const charts = registry
    ? pushed.flatMap((c) => c.versions.map((v) => ({ reference: `${registry.host}/${app.slug}/${c.repository}:${v.tag}`, name: c.name, version: v.tag, appVersion: v.appVersion })))
    : [];
  const base = `/t/${ctx.team.slug}/apps/${app.slug}`;
  return (
    <>
      <PageHeader
        title={`New release of ${app.name}`}
        description={
          latest
            ? `Prefilled from ${latest.version}: change what ships, give it a new version. Gantry probes every image and keeps the result.`
            : "Paste or upload the manifests, and/or list images. Gantry probes every image and keeps the result with the release."
        }
        actions={
          <>
            <Link href={`${base}/images`} className="text-sm text-zinc-600 hover:underline">
              Preview first
            </Link>
            <Link href={base} className="text-sm text-zinc-600 hover:underline">
              Back to {app.name}
            </Link>
          </>
        }
      />
      <Card className="max-w-4xl">
        <CardContent className="pt-6">
          <NewReleaseForm
            team={ctx.team.slug}
            app={app.slug}
            latestVersion={latest?.version ?? null}
            suggestedVersion={latest ? suggestNext(latest.version) : ""}
            manifests={latest?.manifests ?? []}
            images={latest?.imageList ?? []}
            charts={charts}
            selectedCharts={latest?.charts.map((c) => c.reference) ?? []}
          />
        </CardContent>
      </Card>
    </>
  );
}
