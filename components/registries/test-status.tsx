import { Badge } from "@/components/ui/badge";

const LABELS: Record<string, { label: string; variant: "success" | "destructive" | "warning" }> = {
  ok: { label: "working", variant: "success" },
  credentials_rejected: { label: "credentials rejected", variant: "destructive" },
  unreachable: { label: "unreachable", variant: "destructive" },
  blocked: { label: "blocked", variant: "warning" },
  unexpected: { label: "unexpected answer", variant: "warning" },
};

/** The last Test connection result of a registry, as a badge with its time. */
export function TestStatus({ outcome, testedAt }: { outcome: string | null; testedAt: Date | null }) {
  if (!outcome || !testedAt) return <Badge variant="secondary">not tested</Badge>;
  const l = LABELS[outcome] ?? { label: outcome, variant: "warning" as const };
  return (
    <span className="inline-flex items-center gap-2">
      <Badge variant={l.variant} data-testid="test-status">
        {l.label}
      </Badge>
      <time className="text-xs text-zinc-500" dateTime={testedAt.toISOString()}>
        {testedAt.toISOString().replace("T", " ").slice(0, 16)} UTC
      </time>
    </span>
  );
}
