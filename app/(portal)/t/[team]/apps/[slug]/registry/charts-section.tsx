import { FileArchive, ShieldOff } from "lucide-react";
import { Badge } from "@/components/ui/badge";
import { CopyButton } from "@/components/ui/copy-button";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import type { PushedChart } from "@/lib/charts/pushed-charts";
import { CommandsCard } from "./commands-card";
import { shortDigest, when } from "./format";


/** helm's own commands for the registry: push (owners, admins) or pull. */
export function helmCommands(host: string, appSlug: string, email: string, mode: "push" | "pull"): string {
  const login = `helm registry login ${host} -u ${email}`;
  if (mode === "pull") return [login, `helm pull oci://${host}/${appSlug}/my-chart --version 1.2.0`].join("\n");
  return [login, "helm package ./my-chart", `helm push my-chart-1.2.0.tgz oci://${host}/${appSlug}`].join("\n");
}

export function HelmCommands({ host, appSlug, email, mode }: { host: string; appSlug: string; email: string; mode: "push" | "pull" }) {
  return (
    <CommandsCard
      title={mode === "push" ? "Push a Helm chart" : "Pull a Helm chart"}
      description={
        <>
          Helm&apos;s own client, with your Gantry email and password (in CI, an admin&apos;s API token). Each customer who pulls it with their license receives
          their own copy: values.yaml gains a <code className="font-mono">global.gantry</code> block with their pull secret, license and image names.
        </>
      }
      commands={helmCommands(host, appSlug, email, mode)}
      testId="helm-commands"
      snippetTestId="helm-snippet"
      copyLabel="Copy the Helm commands"
    />
  );
}

/** The app's Helm charts, apart from its images: Chart.yaml's name, description and each version with its app version. */
export function ChartsSection({ charts, base }: { charts: PushedChart[]; base: string }) {
  if (charts.length === 0) return null;
  return (
    <section className="grid min-w-0 gap-4" aria-labelledby="charts-heading" data-testid="registry-charts">
      <h2 id="charts-heading" className="flex items-center gap-2 text-base font-semibold">
        <FileArchive className="size-4 text-zinc-500" aria-hidden /> Helm charts
      </h2>
      {charts.map((chart) => {
        const oci = `oci://${base}/${chart.repository}`;
        const description = chart.versions[0]?.description;
        const signed = chart.versions.some((v) => v.provenance);
        return (
          <section key={chart.repository} className="rounded-lg border border-zinc-200 bg-white shadow-xs" aria-label={`Chart ${chart.name}`} data-testid="registry-chart" data-chart={chart.repository}>
            <div className="grid gap-1 border-b border-zinc-100 px-4 py-3">
              <div className="flex flex-wrap items-center gap-2">
                <h3 className="min-w-0 flex-1 text-sm font-semibold wrap-anywhere">{chart.name}</h3>
                <span className="text-xs text-zinc-500">
                  {chart.versions.length} version{chart.versions.length === 1 ? "" : "s"}
                </span>
                <CopyButton value={oci} label={`Copy ${oci}`} text="" variant="ghost" className="h-7 px-1.5" />
              </div>
              <code className="font-mono text-xs text-zinc-600 wrap-anywhere">{oci}</code>
              {description ? <p className="text-sm text-zinc-700">{description}</p> : null}
              {signed ? (
                <p className="flex items-start gap-1.5 text-xs text-amber-800" data-testid="chart-provenance-note">
                  <ShieldOff className="mt-0.5 size-3.5 shrink-0" aria-hidden />
                  Signed with a provenance file: customers receive their own variant of the chart, which the signature does not cover, so the provenance
                  file is left out of what they pull. You still pull the chart as signed.
                </p>
              ) : null}
            </div>
            <Table className="table-fixed">
              <TableHeader className="hidden sm:table-header-group">
                <TableRow>
                  <TableHead>Version</TableHead>
                  <TableHead className="w-32">App version</TableHead>
                  <TableHead className="w-52">Digest</TableHead>
                  <TableHead className="w-44">Pushed</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {chart.versions.map((v) => (
                  <TableRow key={v.tag} data-testid="registry-chart-version" data-version={v.tag}>
                    <TableCell className="align-top">
                      <div className="flex flex-wrap items-center gap-2">
                        <span className="font-mono text-sm font-medium wrap-anywhere">{v.tag}</span>
                        {v.provenance ? <Badge variant="secondary">signed</Badge> : null}
                      </div>
                      <div className="mt-1 grid gap-0.5 text-xs text-zinc-600 sm:hidden">
                        <span>App version {v.appVersion ?? "–"}</span>
                        <code className="font-mono" title={v.digest}>
                          {shortDigest(v.digest)}
                        </code>
                        <time dateTime={v.pushedAt.toISOString()}>{when(v.pushedAt)}</time>
                      </div>
                    </TableCell>
                    <TableCell className="hidden font-mono text-sm sm:table-cell">{v.appVersion ?? "–"}</TableCell>
                    <TableCell className="hidden sm:table-cell">
                      <code className="font-mono text-xs" title={v.digest}>
                        {shortDigest(v.digest)}
                      </code>
                    </TableCell>
                    <TableCell className="hidden whitespace-nowrap text-zinc-600 sm:table-cell">
                      <time dateTime={v.pushedAt.toISOString()}>{when(v.pushedAt)}</time>
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </section>
        );
      })}
    </section>
  );
}
