import { Fragment } from "react";
import type { Metadata } from "next";
import { Container, KeyRound, Layers, User } from "lucide-react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { CopyButton } from "@/components/ui/copy-button";
import { RegistryUsageCard } from "@/components/registry/registry-usage";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { humanBytes } from "@/lib/format/bytes";
import { appRegistryUrl } from "@/lib/domains/app-domains";
import { listAppImages, registryCommands, type AppImages, type Pusher } from "@/lib/hosted-registry/catalog";
import { usageOrError } from "@/lib/hosted-registry/usage";
import { orNotFound } from "@/lib/http/or-not-found";
import { teamPageContext } from "@/lib/http/page-context";
import { can } from "@/lib/teams/roles";
import { listPushedCharts } from "@/lib/charts/pushed-charts";
import { ChartsSection, HelmCommands } from "./charts-section";
import { CommandsCard } from "./commands-card";
import { DeleteTagButton } from "./delete-tag-button";
import { shortDigest, when } from "./format";

export const metadata: Metadata = { title: "Registry" };

type Tag = AppImages["repositories"][number]["tags"][number];

/** A path that may wrap after each "/" (and anywhere, if a part is wider than the screen). */
function Wrapping({ path }: { path: string }) {
  return path.split("/").map((part, i) => (
    <Fragment key={i}>
      {i ? "/" : null}
      {i ? <wbr /> : null}
      {part}
    </Fragment>
  ));
}


function PushedBy({ pusher }: { pusher: Pusher }) {
  const Icon = pusher.kind === "token" ? KeyRound : User;
  return (
    <span className="flex max-w-full min-w-0 items-center gap-1" title={pusher.kind === "token" ? `API token "${pusher.name}"` : pusher.name}>
      <Icon className="size-3.5 shrink-0 text-zinc-400" aria-hidden />
      <span className="sr-only">{pusher.kind === "token" ? "API token" : pusher.kind === "user" ? "User" : ""}</span>
      <span className="min-w-0 truncate">{pusher.name}</span>
    </span>
  );
}

function Digest({ tag, name }: { tag: Tag; name: string }) {
  return (
    <span className="inline-flex items-center gap-1">
      <code className="font-mono text-xs" title={tag.digest} data-testid="digest">
        {shortDigest(tag.digest)}
      </code>
      <CopyButton value={tag.digest} label={`Copy the digest of ${name}`} text="" variant="ghost" className="h-7 px-1.5" />
    </span>
  );
}

function Commands({ host, url, appSlug, email, mode }: { host: string; url: string; appSlug: string; email: string; mode: "push" | "pull" }) {
  const description =
    (mode === "push"
      ? `Sign in to ${url} with your Gantry email and password (in CI, an admin's API token as the password), tag the image under ${host}/${appSlug}/ and push it.`
      : `Sign in to ${url} with your Gantry email and password and pull. Owners and admins push.`) +
    (url.startsWith("http://") ? " The registry is served over plain HTTP: Docker talks to it from this machine only, or once it is listed under insecure-registries." : "");
  return (
    <CommandsCard
      title={mode === "push" ? "Push an image" : "Pull an image"}
      description={description}
      commands={registryCommands(host, appSlug, email, mode)}
      testId="registry-commands"
      snippetTestId="registry-snippet"
      copyLabel="Copy the commands"
    />
  );
}

function Repository({ repo, base, team, appSlug, canDelete }: { repo: AppImages["repositories"][number]; base: string; team: string; appSlug: string; canDelete: boolean }) {
  const path = `${base}/${repo.name}`;
  return (
    <section className="rounded-lg border border-zinc-200 bg-white shadow-xs" aria-label={`Repository ${repo.name}`} data-testid="registry-repository" data-repository={repo.name}>
      <div className="flex flex-wrap items-center gap-2 border-b border-zinc-100 px-4 py-3">
        <h2 className="min-w-0 flex-1 font-mono text-sm font-semibold wrap-anywhere">
          <Wrapping path={path} />
        </h2>
        <span className="text-xs text-zinc-500">
          {repo.tags.length} tag{repo.tags.length === 1 ? "" : "s"}
        </span>
        <CopyButton value={path} label={`Copy ${path}`} text="" variant="ghost" className="h-7 px-1.5" />
      </div>
      {repo.tags.length === 0 ? (
        <p className="px-4 py-3 text-sm text-zinc-600">No tags: what was pushed here is reachable by digest only.</p>
      ) : (
        <Table className="table-fixed">
          <TableHeader className="hidden md:table-header-group">
            <TableRow>
              <TableHead>Tag</TableHead>
              <TableHead className="w-52">Digest</TableHead>
              <TableHead className="w-24 text-right">Size</TableHead>
              <TableHead className="w-[22%]">Pushed by</TableHead>
              <TableHead className="w-44">Pushed</TableHead>
              {canDelete ? (
                <TableHead className="w-14">
                  <span className="sr-only">Actions</span>
                </TableHead>
              ) : null}
            </TableRow>
          </TableHeader>
          <TableBody>
            {repo.tags.map((t) => {
              const image = `${path}:${t.tag}`;
              const size = t.size === null ? "–" : humanBytes(t.size);
              return (
                <TableRow key={t.tag} data-testid="registry-tag" data-tag={t.tag}>
                  <TableCell className="align-top md:align-middle">
                    <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
                      <span className="min-w-0 font-mono text-sm font-medium wrap-anywhere">{t.tag}</span>
                      {t.multiPlatform ? (
                        <Badge variant="secondary" title="An index: one tag, several platforms">
                          <Layers className="size-3" aria-hidden /> multi-platform
                        </Badge>
                      ) : null}
                    </div>
                    {/* Below md the other columns fold into the tag's cell. */}
                    <div className="mt-1 grid gap-0.5 text-xs text-zinc-600 md:hidden">
                      <div className="flex flex-wrap items-center gap-x-2">
                        <span>{size}</span>
                        <Digest tag={t} name={`${repo.name}:${t.tag}`} />
                      </div>
                      <div className="flex min-w-0 flex-wrap items-center gap-x-2">
                        <PushedBy pusher={t.pushedBy} />
                        <time dateTime={t.pushedAt.toISOString()}>{when(t.pushedAt)}</time>
                      </div>
                    </div>
                  </TableCell>
                  <TableCell className="hidden md:table-cell">
                    <Digest tag={t} name={`${repo.name}:${t.tag}`} />
                  </TableCell>
                  <TableCell className="hidden text-right tabular-nums md:table-cell" data-testid="tag-size">
                    {size}
                  </TableCell>
                  <TableCell className="hidden text-zinc-700 md:table-cell">
                    <PushedBy pusher={t.pushedBy} />
                  </TableCell>
                  <TableCell className="hidden whitespace-nowrap text-zinc-600 md:table-cell">
                    <time dateTime={t.pushedAt.toISOString()}>{when(t.pushedAt)}</time>
                  </TableCell>
                  {canDelete ? (
                    <TableCell className="w-12 align-top md:w-14 md:align-middle">
                      <DeleteTagButton team={team} app={appSlug} repository={repo.name} tag={t.tag} image={image} />
                    </TableCell>
                  ) : null}
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      )}
    </section>
  );
}

export default async function RegistryPage({
  params,
  searchParams,
}: {
  params: Promise<{ team: string; slug: string }>;
  searchParams: Promise<{ deleted?: string }>;
}) {
  const { team, slug } = await params;
  const { user, ctx } = await teamPageContext(team);
  const [all, charts, usage] = await Promise.all([orNotFound(listAppImages(ctx, slug)), orNotFound(listPushedCharts(ctx.team.id, slug)), usageOrError(ctx)]);
  // Charts are shown apart (charts-section.tsx); a repository holding charts is not listed among images.
  const chartRepositories = new Set(charts.map((c) => c.repository));
  const images = { ...all, repositories: all.repositories.filter((r) => !chartRepositories.has(r.name)) };
  const { deleted } = await searchParams;
  // The app's registry domain when it has one (Settings → Domains), else Gantry's own address.
  const registry = await appRegistryUrl(ctx.team.id, images.app.id);
  const canDelete = can(ctx.role, "image:delete");
  const mode = can(ctx.role, "image:push") ? "push" : "pull";
  const base = registry ? `${registry.host}/${images.app.slug}` : images.app.slug;
  const empty = images.repositories.length === 0 && charts.length === 0;
  const commands = registry ? (
    <div className="grid gap-4">
      <Commands host={registry.host} url={registry.url} appSlug={images.app.slug} email={user.email} mode={mode} />
      <HelmCommands host={registry.host} appSlug={images.app.slug} email={user.email} mode={mode} />
    </div>
  ) : null;
  return (
    <div className="grid min-w-0 gap-6">
      {deleted ? (
        <Alert variant="success">
          <AlertDescription className="break-all">Deleted the tag {deleted}.</AlertDescription>
        </Alert>
      ) : null}
      {registry ? null : (
        <Alert variant="warning" data-testid="registry-not-exposed">
          <AlertDescription>
            Gantry&apos;s own registry has no public address on this server, so nothing can be pushed to it or pulled from it yet. Your operator turns it
            on by setting <code className="font-mono">GANTRY_REGISTRY_URL</code> (its public URL, e.g. https://registry.example.com) or{" "}
            <code className="font-mono">GANTRY_REGISTRY_PORT</code> and restarting Gantry.
          </AlertDescription>
        </Alert>
      )}
      {usage ? <RegistryUsageCard usage={usage} className="max-w-3xl" /> : null}
      {empty ? (
        <>
          <div className="flex flex-col items-center gap-2 rounded-lg border border-dashed border-zinc-300 bg-white px-6 py-10 text-center">
            <Container className="size-8 text-zinc-400" aria-hidden />
            <h2 className="text-base font-semibold">No images or charts yet</h2>
            <p className="max-w-md text-sm text-zinc-600">
              {mode === "push" ? "Push the app's images and Helm charts here, and customers pull them with their license." : "Owners and admins push the app's images and charts here."}
            </p>
          </div>
          {commands}
        </>
      ) : (
        <>
          {images.truncated ? (
            <p className="text-sm text-zinc-600">
              Showing the {images.repositories.reduce((n, r) => n + r.tags.length, 0)} most recently pushed of {images.tagCount} tags.
            </p>
          ) : null}
          <div className="grid min-w-0 gap-4">
            {images.repositories.map((repo) => (
              <Repository key={repo.name} repo={repo} base={base} team={ctx.team.slug} appSlug={images.app.slug} canDelete={canDelete} />
            ))}
          </div>
          <ChartsSection charts={charts} base={base} />
          <div className="max-w-3xl">{commands}</div>
        </>
      )}
    </div>
  );
}
