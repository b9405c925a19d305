import { cn } from "./cn";

/**
 * A horizontal bar for a share of a limit (cache size, registry quota), with
 * the meter role and its value for assistive technology. `share` is 0–1;
 * `tone` colours the filled part.
 */
export function Meter({
  share,
  label,
  tone = "normal",
  className,
  testId,
}: {
  share: number;
  label: string;
  tone?: "normal" | "warning" | "danger";
  className?: string;
  testId?: string;
}) {
  const clamped = Math.max(0, Math.min(1, share));
  return (
    <div
      className={cn("h-2 overflow-hidden rounded-full bg-zinc-100", className)}
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(clamped * 100)}
      data-testid={testId}
    >
      <div className={cn("h-full", tone === "danger" ? "bg-red-600" : tone === "warning" ? "bg-amber-500" : "bg-indigo-600")} style={{ width: `${clamped * 100}%` }} />
    </div>
  );
}
