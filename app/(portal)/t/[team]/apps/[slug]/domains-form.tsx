"use client";

import Link from "next/link";
import { useActionState } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { FieldError } from "@/components/ui/field-error";
import { Label } from "@/components/ui/label";
import { SelectNative } from "@/components/ui/select-native";
import { SubmitButton } from "@/components/ui/submit-button";
import type { ActionResult } from "@/lib/http/team-action";
import { saveAppDomainsAction } from "./domains-actions";

export interface FaceChoice {
  /** The app's own pick (a verified domain's name), or "" for the default. */
  picked: string;
  /** What "default" means now: the team default domain, or Gantry's own host. */
  fallback: string;
  options: string[];
}

/** Picks the app's proxy and registry domains among the team's verified ones (owners and admins). */
export function DomainsForm({ team, app, proxy, registry, domainsHref }: { team: string; app: string; proxy: FaceChoice; registry: FaceChoice | null; domainsHref: string }) {
  const [state, formAction] = useActionState<ActionResult, FormData>(saveAppDomainsAction, { ok: false });
  const face = (name: "proxyDomain" | "registryDomain", label: string, choice: FaceChoice) => (
    <div className="grid min-w-0 gap-1.5">
      <Label htmlFor={`app-${name}`}>{label}</Label>
      <SelectNative id={`app-${name}`} name={name} defaultValue={choice.picked} aria-invalid={state.fieldErrors?.[name] ? true : undefined}>
        <option value="">Default ({choice.fallback})</option>
        {choice.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </SelectNative>
      <FieldError id={`app-${name}-error`} errors={state.fieldErrors?.[name]} />
    </div>
  );
  return (
    <form action={formAction} className="grid gap-3" noValidate data-testid="app-domains-form">
      <input type="hidden" name="team" value={team} />
      <input type="hidden" name="app" value={app} />
      <div className="grid gap-3 sm:grid-cols-2">
        {face("proxyDomain", "Proxy domain (customers pull)", proxy)}
        {registry ? face("registryDomain", "Registry domain", registry) : null}
      </div>
      {proxy.options.length === 0 && (!registry || registry.options.length === 0) ? (
        <p className="text-sm text-zinc-600">
          No verified domains yet: add one under{" "}
          <Link href={domainsHref} className="underline">
            Settings → Domains
          </Link>
          .
        </p>
      ) : null}
      {state.message ? (
        <Alert variant={state.ok ? "success" : "destructive"}>
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <div>
        <SubmitButton variant="outline" pendingLabel="Saving…">
          Save domains
        </SubmitButton>
      </div>
    </form>
  );
}
