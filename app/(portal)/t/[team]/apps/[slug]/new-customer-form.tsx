"use client";

import { useActionState } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { FieldError } from "@/components/ui/field-error";
import { Label } from "@/components/ui/label";
import { SelectNative } from "@/components/ui/select-native";
import { SubmitButton } from "@/components/ui/submit-button";
import { FormField } from "@/components/forms/form-field";
import type { ActionResult } from "@/lib/http/team-action";
import { createCustomerAction } from "../actions";

export function NewCustomerForm({ team, app }: { team: string; app: string }) {
  const [state, formAction] = useActionState<ActionResult, FormData>(createCustomerAction, { ok: false });
  const e = state.fieldErrors ?? {};
  return (
    <form action={formAction} className="grid gap-4 sm:grid-cols-2" noValidate data-testid="new-customer-form">
      <input type="hidden" name="team" value={team} />
      <input type="hidden" name="app" value={app} />
      {state.message ? (
        <Alert variant="destructive" className="sm:col-span-2">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <FormField name="name" label="Customer name" errors={e.name} />
      <FormField name="email" label="Email (optional)" type="email" errors={e.email} />
      <div className="grid gap-1.5">
        <Label htmlFor="customer-type">License type</Label>
        <SelectNative id="customer-type" name="type" defaultValue="paid">
          <option value="paid">paid</option>
          <option value="trial">trial</option>
          <option value="community">community</option>
          <option value="dev">dev</option>
        </SelectNative>
        <FieldError id="customer-type-error" errors={e.type} />
      </div>
      <FormField name="expiresAt" label="Expires (optional)" type="date" errors={e.expiresAt} hint="Leave empty for no expiry. Trials usually expire." />
      <div className="sm:col-span-2">
        <SubmitButton pendingLabel="Creating…">Create customer and license</SubmitButton>
      </div>
    </form>
  );
}
