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

type Typed = Partial<Record<"name" | "endpoint" | "username" | "pathName", string>>;

/**
 * Add or edit a registry. The password is write-only: on edit it shows "unchanged" and is kept unless
 * retyped, or unless the endpoint moves to another scheme, host or port, which needs it again.
 */
export function RegistryForm({ team, existing }: { team: string; existing?: Existing }) {
  const action = existing ? updateRegistryAction : createRegistryAction;
  // React resets the form after an action: a refused submission keeps what was typed (never the password).
  const [state, formAction] = useActionState<ActionResult & { typed?: Typed }, FormData>(async (prev, formData) => {
    const result = await action(prev, formData);
    if (result.ok) return result;
    const typed = Object.fromEntries((["name", "endpoint", "username", "pathName"] as const).map((k) => [k, String(formData.get(k) ?? "")]));
    return { ...result, typed };
  }, { ok: false });
  const e = state.fieldErrors ?? {};
  const value = (k: keyof Typed) => state.typed?.[k] ?? existing?.[k];
  return (
    <form action={formAction} className="grid max-w-xl gap-4" noValidate data-testid="registry-form">
      <input type="hidden" name="team" value={team} />
      {existing ? <input type="hidden" name="id" value={existing.id} /> : null}
      {state.message ? (
        <Alert variant={state.ok ? "success" : "destructive"}>
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <FormField name="name" label="Name" defaultValue={value("name")} placeholder="e.g. Quay (production)" errors={e.name} />
      <FormField
        name="endpoint"
        label="Endpoint"
        defaultValue={value("endpoint")}
        placeholder="quay.io, ghcr.io, registry.example.com:5000"
        hint="Host with an optional port. https:// is assumed; Docker Hub may be entered as docker.io."
        errors={e.endpoint}
      />
      <FormField name="username" label="Username" defaultValue={value("username")} autoComplete="off" errors={e.username} />
      <FormField
        name="password"
        label="Password or token"
        type="password"
        autoComplete="new-password"
        placeholder={existing ? "unchanged" : ""}
        hint={
          existing
            ? "Leave empty to keep the stored password; required when you change the endpoint's host, port or scheme. It is never shown again."
            : "Stored encrypted. It never leaves the server again."
        }
        errors={e.password}
      />
      <FormField
        name="pathName"
        label="Proxy path name"
        defaultValue={value("pathName")}
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
