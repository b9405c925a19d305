import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { cn } from "@/components/ui/cn";
import { Meter } from "@/components/ui/meter";
import { humanBytes } from "@/lib/format/bytes";
import type { RegistryUsage } from "@/lib/hosted-registry/quota";

/** Share of the quota at which the bar turns amber: pushes still work, but not for long. */
const WARN_SHARE = 0.9;

/**
 * The team's storage in Gantry's own registry against its quota: a bar with
 * the numbers, or why there is none (no quota, nothing stored, not loaded).
 * Server component; shown on the Registry tab and in Settings.
 */
export function RegistryUsageCard({ usage, className }: { usage: RegistryUsage | "error"; className?: string }) {
  return (
    <Card className={cn("min-w-0", className)} data-testid="registry-usage">
      <CardHeader>
        <CardTitle>Registry storage</CardTitle>
        <CardDescription>What your team&apos;s apps keep in Gantry&apos;s own registry, each layer counted once across them.</CardDescription>
      </CardHeader>
      <CardContent>{usage === "error" ? <LoadFailed /> : <Usage usage={usage} />}</CardContent>
    </Card>
  );
}

function LoadFailed() {
  return (
    <p className="text-sm text-red-800" role="alert" data-testid="registry-usage-error">
      The registry&apos;s usage could not be loaded. Reload the page; if it keeps failing, tell your operator.
    </p>
  );
}

/** Rounded down, so a quota not yet used up never reads 100 %; a sliver reads as one. */
function percentUsed(share: number): string {
  const tenths = Math.floor(share * 1000) / 10;
  return share > 0 && tenths === 0 ? "Under 0.1%" : `${tenths}%`;
}

function Usage({ usage }: { usage: RegistryUsage }) {
  const used = usage.storedBytes + usage.uploadingBytes;
  const unlimited = usage.quotaBytes === 0;
  const share = unlimited ? 0 : Math.min(1, used / usage.quotaBytes);
  const full = !unlimited && used >= usage.quotaBytes;
  const uploading = usage.uploadingBytes > 0 ? ` (${humanBytes(usage.uploadingBytes)} of it in uploads still open)` : "";
  return (
    <div className="grid gap-2">
      <p className="flex flex-wrap items-baseline gap-x-2 gap-y-0.5">
        <span className="text-2xl font-semibold tracking-tight tabular-nums" data-testid="registry-usage-used">
          {humanBytes(used)}
        </span>
        <span className="text-sm text-zinc-600" data-testid="registry-usage-quota">
          {unlimited ? "stored, no quota on this Gantry" : `of ${humanBytes(usage.quotaBytes)} quota`}
        </span>
      </p>
      {unlimited ? null : (
        <Meter share={share} label="Share of the registry quota used" tone={full ? "danger" : share >= WARN_SHARE ? "warning" : "normal"} testId="registry-usage-bar" />
      )}
      <p className="text-sm text-zinc-600" data-testid="registry-usage-detail">
        {used === 0
          ? "Nothing stored yet."
          : full
            ? `The quota is used up${uploading}: pushes are refused. Delete images you no longer ship and ask your operator to run registry garbage collection, or to raise the quota.`
            : unlimited
              ? `Stored${uploading}.`
              : `${percentUsed(share)} used${uploading}; ${humanBytes(usage.quotaBytes - used)} left.`}
      </p>
    </div>
  );
}
