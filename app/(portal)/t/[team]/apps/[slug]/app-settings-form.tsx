"use client";

import { useActionState } from "react";
import { Lock } from "lucide-react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { FieldError } from "@/components/ui/field-error";
import { Label } from "@/components/ui/label";
import { SubmitButton } from "@/components/ui/submit-button";
import { Textarea } from "@/components/ui/textarea";
import { FormField } from "@/components/forms/form-field";
import type { ActionResult } from "@/lib/http/team-action";
import { updateAppAction } from "../actions";

export function AppSettingsForm({ team, app }: { team: string; app: { name: string; slug: string; slugLocked: boolean; namespaces: string[]; chartPullSecret: boolean; installPage: boolean } }) {
  const [state, formAction] = useActionState<ActionResult, FormData>(updateAppAction, { ok: false });
  const e = state.fieldErrors ?? {};
  return (
    <form action={formAction} className="grid gap-4" noValidate data-testid="app-settings-form">
      <input type="hidden" name="team" value={team} />
      <input type="hidden" name="app" value={app.slug} />
      {state.message ? (
        <Alert variant={state.ok ? "success" : "destructive"}>
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <FormField name="name" label="App name" defaultValue={app.name} errors={e.name} />
      {app.slugLocked ? (
        <div className="grid gap-1.5">
          <Label htmlFor="locked-slug">Slug</Label>
          <div id="locked-slug" className="flex items-center gap-2 font-mono text-sm" data-testid="slug-locked">
            <Lock className="size-4 text-zinc-500" aria-hidden /> {app.slug} <span className="font-sans text-xs text-zinc-500">(locked after the first license)</span>
          </div>
        </div>
      ) : (
        <FormField name="slug" label="Slug" defaultValue={app.slug} errors={e.slug} hint="Editable until the first license exists." />
      )}
      <div className="grid gap-1.5">
        <Label htmlFor="namespaces">Additional namespaces</Label>
        <Textarea
          id="namespaces"
          name="namespaces"
          defaultValue={app.namespaces.join("\n")}
          rows={3}
          aria-describedby="namespaces-hint"
          placeholder={"monitoring\n*"}
        />
        <p id="namespaces-hint" className="text-xs text-zinc-500">
          Namespaces beyond the app&apos;s own that also need the pull secret, one per line. <code>*</code> means every namespace.
        </p>
        <FieldError id="namespaces-error" errors={Object.entries(e).filter(([k]) => k.startsWith("additionalNamespaces")).flatMap(([, v]) => v)} />
      </div>
      <input type="hidden" name="switches" value="1" />
      <fieldset className="grid gap-3">
        <legend className="mb-1 text-sm font-medium">Customers</legend>
        <label className="flex items-start gap-2 text-sm">
          <input type="checkbox" name="installPage" defaultChecked={app.installPage} className="mt-0.5 size-4" data-testid="install-page-switch" />
          <span>
            Install page: customers sign in at <code className="font-mono">/install</code> with their license to see their releases, commands and downloads.
          </span>
        </label>
        <label className="flex items-start gap-2 text-sm">
          <input type="checkbox" name="chartPullSecret" defaultChecked={app.chartPullSecret} className="mt-0.5 size-4" data-testid="chart-pull-secret-switch" />
          <span>
            Helm charts create the pull secret: each chart a customer pulls gains <code className="font-mono">templates/gantry-pull-secret.yaml</code>, so a chart
            that only lists <code className="font-mono">imagePullSecrets</code> needs no change.
          </span>
        </label>
      </fieldset>
      <div>
        <SubmitButton variant="outline">Save app</SubmitButton>
      </div>
    </form>
  );
}
