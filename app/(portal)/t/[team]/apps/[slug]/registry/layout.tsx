import Link from "next/link";
import { PageHeader } from "@/components/shell/page-header";
import { getApp } from "@/lib/apps/apps";
import { appRegistryUrl } from "@/lib/domains/app-domains";
import { orNotFound } from "@/lib/http/or-not-found";
import { teamPageContext } from "@/lib/http/page-context";

/**
 * The Registry tab's frame. The app is resolved here, above loading.tsx: a
 * loading boundary streams the response, and only what renders before it can
 * still answer 404 (another team's app, as everywhere in the portal).
 */
export default async function RegistryLayout({ children, params }: { children: React.ReactNode; params: Promise<{ team: string; slug: string }> }) {
  const { team, slug } = await params;
  const { ctx } = await teamPageContext(team);
  const app = await orNotFound(getApp(ctx.team.id, slug));
  const registry = await appRegistryUrl(ctx.team.id, app.id);
  return (
    <>
      <PageHeader
        title={`Registry of ${app.name}`}
        description={`${registry ? `Images pushed to ${registry.host}/${app.slug}/…, in Gantry's own registry` : "Images pushed to Gantry's own registry"}. Customers pull them with their license.`}
        actions={
          <Link href={`/t/${ctx.team.slug}/apps/${app.slug}`} className="text-sm text-zinc-600 hover:underline">
            Back to {app.name}
          </Link>
        }
      />
      {children}
    </>
  );
}
