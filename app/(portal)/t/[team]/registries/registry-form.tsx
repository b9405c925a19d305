"use client";

import { useActionState } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { FormField } from "@/components/forms/form-field";
import type { ActionResult } from "@/lib/http/team-action";
import { createRegistryAction, updateRegistryAction } from "./actions";

interface Existing {
  id: string;
  name: string;
  endpoint: string;
  username: string;
  pathName: string;
}

/** Add or edit a registry. The password is write-only: on edit it shows "unchanged" and is kept unless retyped. */
export function RegistryForm({ team, existing }: { team: string; existing?: Existing }) {
  const [state, formAction] = useActionState<ActionResult, FormData>(existing ? updateRegistryAction : createRegistryAction, { ok: false });
  const e = state.fieldErrors ?? {};
  return (
    <form action={formAction} className="grid max-w-xl gap-4" noValidate data-testid="registry-form">
      <input type="hidden" name="team" value={team} />
      {existing ? <input type="hidden" name="id" value={existing.id} /> : null}
      {state.message ? (
        <Alert variant={state.ok ? "success" : "destructive"}>
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <FormField name="name" label="Name" defaultValue={existing?.name} placeholder="e.g. Quay (production)" errors={e.name} />
      <FormField
        name="endpoint"
        label="Endpoint"
        defaultValue={existing?.endpoint}
        placeholder="quay.io, ghcr.io, registry.example.com:5000"
        hint="Host with an optional port. https:// is assumed; Docker Hub may be entered as docker.io."
        errors={e.endpoint}
      />
      <FormField name="username" label="Username" defaultValue={existing?.username} autoComplete="off" errors={e.username} />
      <FormField
        name="password"
        label="Password or token"
        type="password"
        autoComplete="new-password"
        placeholder={existing ? "unchanged" : ""}
        hint={existing ? "Leave empty to keep the stored password. It is never shown again." : "Stored encrypted. It never leaves the server again."}
        errors={e.password}
      />
      <FormField
        name="pathName"
        label="Proxy path name"
        defaultValue={existing?.pathName}
        placeholder="derived from the endpoint"
        hint="How customers' image paths name this registry: <proxy>/proxy/<app>/<path name>/<repository>."
        errors={e.pathName}
      />
      <div>
        <SubmitButton pendingLabel="Saving…">{existing ? "Save changes" : "Add registry"}</SubmitButton>
      </div>
    </form>
  );
}
