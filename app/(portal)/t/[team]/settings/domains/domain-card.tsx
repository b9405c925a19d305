"use client";

import Link from "next/link";
import { useActionState } from "react";
import { AlertTriangle, Trash2 } from "lucide-react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Badge, type BadgeVariant } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { ConfirmFooter } from "@/components/ui/confirm-footer";
import { CopyButton } from "@/components/ui/copy-button";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle, DialogTrigger } from "@/components/ui/dialog";
import { SubmitButton } from "@/components/ui/submit-button";
import type { DomainView } from "@/lib/domains/present";
import type { ActionResult } from "@/lib/http/team-action";
import { deleteDomainAction, setDefaultDomainAction, verifyDomainAction } from "./actions";

const STATUS: Record<DomainView["status"], { label: string; variant: BadgeVariant }> = {
  pending: { label: "pending verification", variant: "secondary" },
  verified: { label: "verified", variant: "success" },
  failed: { label: "failed: not served", variant: "destructive" },
};

const when = (iso: string | null) => (iso ? `${iso.replace("T", " ").slice(0, 16)} UTC` : "never");

/** One DNS record to publish, copyable field by field (long TXT values wrap). */
function DnsRecord({ type, name, value, testId }: { type: string; name: string; value: string; testId: string }) {
  return (
    <div className="grid min-w-0 gap-1 rounded-md border border-zinc-200 bg-zinc-50 p-3 text-sm" data-testid={testId}>
      <div className="grid min-w-0 grid-cols-[3.5rem_1fr_auto] items-center gap-2">
        <span className="text-zinc-600">Type</span>
        <code className="font-mono">{type}</code>
        <span />
        <span className="text-zinc-600">Name</span>
        <code className="min-w-0 font-mono break-all" data-testid={`${testId}-name`}>
          {name}
        </code>
        <CopyButton value={name} label={`Copy the ${type} record's name`} text="" variant="ghost" className="h-7 px-1.5" />
        <span className="text-zinc-600">Value</span>
        <code className="min-w-0 font-mono break-all" data-testid={`${testId}-value`}>
          {value}
        </code>
        <CopyButton value={value} label={`Copy the ${type} record's value`} text="" variant="ghost" className="h-7 px-1.5" />
      </div>
    </div>
  );
}

function ActionButton({ action, team, id, extra, label, pending, variant = "outline", testId }: {
  action: (prev: ActionResult, formData: FormData) => Promise<ActionResult>;
  team: string;
  id: string;
  extra?: Record<string, string>;
  label: string;
  pending: string;
  variant?: "outline" | "default";
  testId: string;
}) {
  const [state, formAction] = useActionState<ActionResult, FormData>(action, { ok: false });
  return (
    <form action={formAction} className="grid gap-2" data-testid={testId}>
      <input type="hidden" name="team" value={team} />
      <input type="hidden" name="id" value={id} />
      {Object.entries(extra ?? {}).map(([k, v]) => (
        <input key={k} type="hidden" name={k} value={v} />
      ))}
      <div>
        <SubmitButton variant={variant} size="sm" pendingLabel={pending}>
          {label}
        </SubmitButton>
      </div>
      {state.message ? (
        <Alert variant={state.ok ? "success" : "warning"}>
          <AlertDescription className="break-words">{state.message}</AlertDescription>
        </Alert>
      ) : null}
    </form>
  );
}

function DeleteDomain({ team, domain, apps }: { team: string; domain: DomainView; apps: number }) {
  const [state, formAction] = useActionState<ActionResult, FormData>(deleteDomainAction, { ok: false });
  return (
    <Dialog>
      <DialogTrigger asChild>
        <Button variant="outline" size="sm" className="text-red-700">
          <Trash2 className="size-4" aria-hidden /> Delete
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle className="break-all">Delete {domain.name}?</DialogTitle>
          <DialogDescription>
            Gantry stops serving it at once: pull secrets and images that name it stop working for customers.
            {apps ? ` ${apps} app${apps === 1 ? "" : "s"} use${apps === 1 ? "s" : ""} it and fall back to the team default (or Gantry's own URL).` : ""}
          </DialogDescription>
        </DialogHeader>
        <form action={formAction}>
          <input type="hidden" name="team" value={team} />
          <input type="hidden" name="id" value={domain.id} />
          <ConfirmFooter error={state.message} confirmLabel={`Delete ${domain.name}`} errorClassName="mb-3" />
        </form>
      </DialogContent>
    </Dialog>
  );
}

/**
 * A custom domain: its state, the two DNS records to publish (the TXT proof
 * and the CNAME to Gantry), what the last check said, and, for owners and
 * admins, Verify, default and Delete.
 */
export function DomainCard({ team, domain, canManage, apps, linkToDetail }: { team: string; domain: DomainView; canManage: boolean; apps: number; linkToDetail?: boolean }) {
  const status = STATUS[domain.status];
  return (
    <Card data-testid={`domain-${domain.name}`} className="min-w-0">
      <CardHeader>
        <CardTitle className="flex min-w-0 flex-wrap items-center gap-2">
          {linkToDetail ? (
            <Link href={`/t/${team}/settings/domains/${domain.id}`} className="min-w-0 font-mono break-all hover:underline">
              {domain.name}
            </Link>
          ) : (
            <span className="min-w-0 font-mono break-all">{domain.name}</span>
          )}
          <Badge variant="outline">{domain.service}</Badge>
          <Badge variant={status.variant} data-testid="domain-status">
            {status.label}
          </Badge>
          {domain.default ? <Badge>team default</Badge> : null}
        </CardTitle>
        <CardDescription>
          {domain.service === "proxy" ? "Customers pull proxied images and log in with their license here." : "Gantry's own registry answers here: vendors push, customers pull."}{" "}
          Last check: {when(domain.checkedAt)}
          {domain.nextCheckAt ? `; next: ${when(domain.nextCheckAt)}` : ""}.
          {apps ? ` Used by ${apps} app${apps === 1 ? "" : "s"}.` : ""}
        </CardDescription>
      </CardHeader>
      <CardContent className="grid min-w-0 gap-4">
        {domain.warning ? (
          <Alert variant="warning" data-testid="domain-warning">
            <AlertDescription className="flex gap-2 break-words">
              <AlertTriangle className="mt-0.5 size-4 shrink-0" aria-hidden />
              {domain.warning}
            </AlertDescription>
          </Alert>
        ) : null}
        {domain.message ? (
          <p className="text-sm break-words text-zinc-700" data-testid="domain-message">
            {domain.message}
          </p>
        ) : null}
        {domain.status !== "verified" ? (
          <p className="text-sm text-zinc-600">
            Publish this TXT record at your DNS provider to prove the name is yours
            {domain.claimExpiresAt && domain.status === "pending" ? `; the claim lapses on ${when(domain.claimExpiresAt)} unless it is verified` : ""}:
          </p>
        ) : (
          <p className="text-sm text-zinc-600">Keep this TXT record: Gantry checks it every 24 hours and stops serving the name after two misses in a row.</p>
        )}
        <DnsRecord type="TXT" name={domain.verification.name} value={domain.verification.value} testId="txt-record" />
        <p className="text-sm text-zinc-600">
          And point the name at Gantry ({domain.target.type === "CNAME" ? "a CNAME, or A/AAAA records to the same load balancer" : "Gantry is reached by address here"}):
          {domain.target.ok === false ? <span className="text-amber-800"> the last check found it points elsewhere.</span> : null}
        </p>
        <DnsRecord type={domain.target.type} name={domain.target.name} value={domain.target.value} testId="cname-record" />
        {canManage ? (
          <div className="flex flex-wrap items-start gap-3">
            <ActionButton action={verifyDomainAction} team={team} id={domain.id} label="Verify now" pending="Looking up…" variant="default" testId="verify-domain" />
            {domain.status === "verified" || domain.default ? (
              <ActionButton
                action={setDefaultDomainAction}
                team={team}
                id={domain.id}
                extra={{ default: domain.default ? "false" : "true" }}
                label={domain.default ? "Stop being the default" : `Make default ${domain.service} domain`}
                pending="Saving…"
                testId="default-domain"
              />
            ) : null}
            <DeleteDomain team={team} domain={domain} apps={apps} />
          </div>
        ) : null}
      </CardContent>
    </Card>
  );
}
