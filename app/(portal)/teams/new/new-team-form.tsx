"use client";

import { useActionState } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { FormField } from "@/components/forms/form-field";
import { createTeamAction } from "./actions";

export function NewTeamForm() {
  const [state, formAction] = useActionState(createTeamAction, { ok: false });
  return (
    <form action={formAction} className="grid gap-4" noValidate>
      {state.message ? (
        <Alert variant="destructive">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <FormField name="name" label="Team name" required errors={state.fieldErrors?.name} />
      <SubmitButton pendingLabel="Creating…">Create team</SubmitButton>
    </form>
  );
}
