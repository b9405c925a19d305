import { Badge, type BadgeVariant } from "@/components/ui/badge";

/** How each probe status reads, on the Images preview and on a release. */
const IMAGE_STATUS: Record<string, { label: string; variant: BadgeVariant }> = {
  public: { label: "public", variant: "success" },
  private: { label: "private → proxy", variant: "default" },
  not_found: { label: "not found", variant: "warning" },
  rate_limited: { label: "rate limited", variant: "warning" },
  unreachable: { label: "unreachable", variant: "destructive" },
  vendor_registry: { label: "vendor registry", variant: "secondary" },
  already_proxied: { label: "already proxied", variant: "secondary" },
  invalid: { label: "invalid", variant: "destructive" },
};

function imageStatus(status: string) {
  return IMAGE_STATUS[status] ?? { label: status.replaceAll("_", " "), variant: "secondary" as const };
}

export function ImageStatusBadge({ status, count }: { status: string; count?: number }) {
  const s = imageStatus(status);
  return (
    <Badge variant={s.variant} data-status={status}>
      {count === undefined ? s.label : `${count} ${s.label}`}
    </Badge>
  );
}

/** A release's image counts as small badges, most telling first. */
export function StatusCounts({ counts }: { counts: Record<string, number> }) {
  const order = Object.keys(IMAGE_STATUS);
  const entries = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
  if (!entries.length) return <span className="text-xs text-zinc-500">no images</span>;
  return (
    <span className="flex flex-wrap gap-1">
      {entries.map(([status, n]) => (
        <ImageStatusBadge key={status} status={status} count={n} />
      ))}
    </span>
  );
}
