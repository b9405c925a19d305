import { Badge } from "@/components/ui/badge";

const CLOUD: Record<string, string> = { ecr: "Amazon ECR", gar: "Google Artifact Registry", acr: "Azure Container Registry" };

function when(d: Date) {
  return d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

/**
 * A cloud registry's short-lived token as this Gantry last saw it: when it was
 * minted and until when it is good, or why renewing it failed (the cloud's words).
 */
export function CredentialStatus({
  kind,
  identity,
  state,
}: {
  kind: string;
  identity: string;
  state: { lastMintAt: Date | null; expiresAt: Date | null; lastErrorAt: Date | null; lastError: string | null } | null;
}) {
  const failedLast = state?.lastErrorAt && (!state.lastMintAt || state.lastErrorAt > state.lastMintAt);
  return (
    <div className="grid gap-1 text-sm" data-testid="credential-status">
      <p className="text-zinc-600">
        {CLOUD[kind] ?? kind} identity <span className="font-medium text-zinc-900 break-all">{identity}</span>; Gantry mints registry tokens from it and renews them before they expire.
      </p>
      {!state || (!state.lastMintAt && !state.lastErrorAt) ? (
        <p className="text-zinc-600">No token minted yet: the first pull or Test connection mints one.</p>
      ) : failedLast ? (
        <p className="text-red-700">
          <Badge variant="destructive">Renewal failed</Badge> {when(state.lastErrorAt!)}: {state.lastError}
        </p>
      ) : (
        <p className="text-zinc-700">
          <Badge variant="success">Token current</Badge> minted {when(state.lastMintAt!)}
          {state.expiresAt ? `, good until ${when(state.expiresAt)}` : ""}.
        </p>
      )}
    </div>
  );
}
