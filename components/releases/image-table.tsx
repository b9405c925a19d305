import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import type { getRelease } from "@/lib/releases/releases";
import { ImageStatusBadge } from "./image-status";

type ReleaseImage = Awaited<ReturnType<typeof getRelease>>["images"][number];

/** "sha256:0123456789ab…" → "0123456789ab". */
export function shortDigest(digest: string | null | undefined): string {
  return digest ? digest.replace(/^sha256:/, "").slice(0, 12) : "";
}

/** Where an image occurs, as "file #doc Kind/name"; tolerant of how the server shapes it. */
function whereLabel(occurrences: unknown): string {
  if (!Array.isArray(occurrences)) return "";
  const labels = occurrences.map((o: unknown) => {
    if (!o || typeof o !== "object") return "";
    const { file, document, kind, name } = o as Record<string, unknown>;
    if (typeof file !== "string") return "";
    return typeof kind === "string" && kind ? `${file} #${String(document)} ${kind}/${String(name)}` : file;
  });
  return [...new Set(labels.filter(Boolean))].join("; ");
}

/** Changed since the probe before: status or digest differs from what was recorded then. */
function changedSinceLastProbe(i: Pick<ReleaseImage, "status" | "digest" | "previousStatus" | "previousDigest">): boolean {
  return (i.previousStatus != null && i.previousStatus !== i.status) || (i.previousDigest != null && i.previousDigest !== i.digest);
}

/** A release's images as the probe last saw them. */
export function ImageTable({ images }: { images: ReleaseImage[] }) {
  if (!images.length) {
    return <p className="rounded-lg border border-dashed border-zinc-300 bg-white px-4 py-8 text-center text-sm text-zinc-600">This release lists no images.</p>;
  }
  return (
    <div className="rounded-lg border border-zinc-200 bg-white">
      <Table data-testid="release-images">
        <TableHeader>
          <TableRow>
            <TableHead>Image</TableHead>
            <TableHead>Status</TableHead>
            <TableHead>Why</TableHead>
            <TableHead>Digest</TableHead>
            <TableHead>Customers pull</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {images.map((i) => {
            const changed = changedSinceLastProbe(i);
            const where = whereLabel(i.occurrences);
            return (
              <TableRow key={i.image} data-testid="release-image" data-status={i.status}>
                <TableCell className="max-w-xs min-w-48 align-top">
                  <code className="font-mono text-xs break-all">{i.image}</code>
                  {where ? <div className="text-xs text-zinc-500">{where}</div> : null}
                </TableCell>
                <TableCell className="align-top">
                  <div className="flex flex-col items-start gap-1">
                    <ImageStatusBadge status={i.status} />
                    {changed ? (
                      <span
                        className="rounded bg-amber-100 px-1.5 py-0.5 text-[11px] font-medium whitespace-nowrap text-amber-900"
                        data-testid="changed-marker"
                        title={`Before the last probe: ${i.previousStatus ?? i.status}${i.previousDigest ? `, ${shortDigest(i.previousDigest)}` : ""}`}
                      >
                        changed since last probe
                      </span>
                    ) : null}
                  </div>
                </TableCell>
                <TableCell className="max-w-sm min-w-48 align-top text-sm">
                  {i.reason}
                  {i.warning ? <div className="mt-1 text-amber-800">{i.warning}</div> : null}
                </TableCell>
                <TableCell className="align-top">
                  {i.digest ? (
                    <code className="font-mono text-xs" title={i.digest}>
                      {shortDigest(i.digest)}
                    </code>
                  ) : (
                    <span className="text-xs text-zinc-400">—</span>
                  )}
                </TableCell>
                <TableCell className="max-w-xs min-w-48 align-top">
                  <code className="font-mono text-xs break-all">{i.rewritten ?? i.image}</code>
                  {i.rewritten ? null : <div className="text-xs text-zinc-500">as written</div>}
                </TableCell>
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
    </div>
  );
}
