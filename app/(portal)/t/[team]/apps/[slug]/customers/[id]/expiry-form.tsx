"use client";

import { useActionState } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { FormField } from "@/components/forms/form-field";
import type { ActionResult } from "@/lib/http/team-action";
import { setExpiryAction } from "../../../actions";

export function ExpiryForm(props: { team: string; app: string; customerId: string; licenseRowId: string; expiresAt: string }) {
  const [state, formAction] = useActionState<ActionResult, FormData>(setExpiryAction, { ok: false });
  return (
    <form action={formAction} className="grid gap-3" noValidate data-testid="expiry-form">
      <input type="hidden" name="team" value={props.team} />
      <input type="hidden" name="app" value={props.app} />
      <input type="hidden" name="customerId" value={props.customerId} />
      <input type="hidden" name="licenseRowId" value={props.licenseRowId} />
      <div className="grid gap-3 sm:grid-cols-[14rem_auto] sm:items-end">
        <FormField name="expiresAt" label="Expires on" type="date" defaultValue={props.expiresAt} errors={state.fieldErrors?.expiresAt} hint="Empty: never expires." />
        <SubmitButton variant="outline">Save expiry</SubmitButton>
      </div>
      {state.message ? (
        <Alert variant={state.ok ? "success" : "destructive"}>
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
    </form>
  );
}
