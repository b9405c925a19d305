import type { Metadata } from "next";
import Link from "next/link";
import { PageHeader } from "@/components/shell/page-header";
import { Button } from "@/components/ui/button";
import { getApp } from "@/lib/apps/apps";
import { appDomains } from "@/lib/domains/app-domains";
import { orNotFound } from "@/lib/http/or-not-found";
import { listCustomers } from "@/lib/licenses/customers";
import { teamPageContext } from "@/lib/http/page-context";
import { can } from "@/lib/teams/roles";
import { PreviewClient } from "./preview-client";

export const metadata: Metadata = { title: "Images" };

export default async function ImagesPage({ params }: { params: Promise<{ team: string; slug: string }> }) {
  const { team, slug } = await params;
  const { ctx } = await teamPageContext(team);
  const app = await orNotFound(getApp(ctx.team.id, slug));
  const canPickLicense = can(ctx.role, "license:view-secret");
  const customers = canPickLicense ? (await listCustomers(ctx.team.id, { appId: app.id, state: "active", pageSize: 200 })).customers : [];
  // The app's domains (its custom ones when picked and verified, else Gantry's own): what the rewrites use.
  const domains = await appDomains(ctx.team.id, app.id);
  const proxyDomain = domains.proxy.host;
  const registryDomain = domains.registry?.host;
  return (
    <>
      <PageHeader
        title={`Images of ${app.name}`}
        description={`Paste or upload the app's manifests (or list images). Gantry probes each image anonymously, as an installer would: public images stay as written, private ones are rewritten to ${proxyDomain}/proxy/${app.slug}/…`}
        actions={
          <>
            {can(ctx.role, "app:manage") ? (
              <Button asChild variant="outline">
                <Link href={`/t/${ctx.team.slug}/apps/${app.slug}/releases/new`}>Save as release…</Link>
              </Button>
            ) : null}
            <Link href={`/t/${ctx.team.slug}/apps/${app.slug}`} className="text-sm text-zinc-600 hover:underline">
              Back to {app.name}
            </Link>
          </>
        }
      />
      <PreviewClient
        endpoint={`/t/${ctx.team.slug}/apps/${app.slug}/images/preview`}
        appSlug={app.slug}
        proxyDomain={proxyDomain}
        registryDomain={registryDomain ?? null}
        addRegistryHref={`/t/${ctx.team.slug}/registries/new`}
        customers={customers.map((c) => ({ id: c.id, name: c.name, fingerprint: c.license?.fingerprint ?? "" }))}
      />
    </>
  );
}
