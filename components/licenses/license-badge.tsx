import { Badge } from "@/components/ui/badge";

const VARIANTS = { active: "success", expired: "warning", revoked: "destructive" } as const;

/** A license's derived state, with the days left when it expires. */
export function LicenseBadge({ state, daysLeft }: { state: "active" | "expired" | "revoked"; daysLeft?: number | null }) {
  return (
    <span className="inline-flex items-center gap-2">
      <Badge variant={VARIANTS[state]} data-testid="license-state">
        {state}
      </Badge>
      {state === "active" && daysLeft !== null && daysLeft !== undefined ? (
        <span className="text-xs text-zinc-500">{daysLeft === 0 ? "expires today" : `${daysLeft} day${daysLeft === 1 ? "" : "s"} left`}</span>
      ) : null}
    </span>
  );
}
