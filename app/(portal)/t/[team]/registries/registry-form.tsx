"use client";

import { useActionState, useState } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { FormField } from "@/components/forms/form-field";
import { Label } from "@/components/ui/label";
import { SelectNative } from "@/components/ui/select-native";
import { KIND_LABELS, REGISTRY_KINDS, type RegistryKind } from "@/lib/registries/kind-names";
import type { ActionResult } from "@/lib/http/team-action";
import { createRegistryAction, updateRegistryAction } from "./actions";
import { KindFields, type KindExisting } from "./registry-kind-fields";

interface Existing extends KindExisting {
  id: string;
  name: string;
  endpoint: string;
  pathName: string;
}

/** What a refused submission gives back to the form: every non-secret field as typed. */
const TYPED_FIELDS = ["name", "endpoint", "kind", "username", "pathName", "region", "accessKeyId", "roleArn", "externalId", "tenantId", "clientId"] as const;
type Typed = Partial<Record<(typeof TYPED_FIELDS)[number], string>>;

/**
 * Add or edit a registry. The password is write-only: on edit it shows "unchanged" and is kept unless
 * retyped, or unless the endpoint moves to another scheme, host or port, which needs it again.
 */
export function RegistryForm({ team, existing, ambientAllowed }: { team: string; existing?: Existing; ambientAllowed: boolean }) {
  const [kind, setKind] = useState<RegistryKind>(existing?.kind ?? "basic");
  const action = existing ? updateRegistryAction : createRegistryAction;
  // React resets the form after an action: a refused submission keeps what was typed (never the password).
  const [state, formAction] = useActionState<ActionResult & { typed?: Typed; attempt?: number }, FormData>(async (prev, formData) => {
    const result = await action(prev, formData);
    const attempt = (prev.attempt ?? 0) + 1;
    if (result.ok) return { ...result, attempt };
    const typed = Object.fromEntries(TYPED_FIELDS.map((k) => [k, String(formData.get(k) ?? "")]));
    return { ...result, typed, attempt };
  }, { ok: false });
  const e = state.fieldErrors ?? {};
  const value = (k: "name" | "endpoint" | "pathName") => state.typed?.[k] ?? existing?.[k];
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
        placeholder="quay.io, 123456789012.dkr.ecr.us-east-1.amazonaws.com, europe-docker.pkg.dev, myreg.azurecr.io"
        hint="Host with an optional port. https:// is assumed; Docker Hub may be entered as docker.io."
        errors={e.endpoint}
      />
      <div className="grid gap-1.5">
        <Label htmlFor="registry-kind">How Gantry signs in</Label>
        {/* Uncontrolled, remounted after each submission: React resets a form after its action, and a controlled select would show the reset value while the fields shown stay the chosen kind's. */}
        <SelectNative key={state.attempt ?? 0} id="registry-kind" name="kind" defaultValue={kind} onChange={(ev) => setKind(ev.target.value as RegistryKind)}>
          {REGISTRY_KINDS.map((k) => (
            <option key={k} value={k}>
              {KIND_LABELS[k]}
            </option>
          ))}
        </SelectNative>
        {kind !== "basic" ? <p className="text-xs text-zinc-500">Gantry exchanges this identity for short-lived registry tokens and renews them before they expire.</p> : null}
      </div>
      <KindFields kind={kind} existing={existing} errors={e} ambientAllowed={ambientAllowed} typed={state.typed as Record<string, string> | undefined} />
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
