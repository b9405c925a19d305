"use client";

import { useActionState } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { FormField } from "@/components/forms/form-field";
import { SubmitButton } from "@/components/ui/submit-button";
import type { ActionResult } from "@/lib/http/team-action";
import { installSignInAction } from "./actions";

export function InstallSignInForm() {
  const [state, formAction] = useActionState<ActionResult, FormData>(installSignInAction, { ok: false });
  const fieldErrors = state.fieldErrors ?? {};
  return (
    <form action={formAction} className="grid gap-4" noValidate data-testid="install-sign-in">
      {state.message && !fieldErrors.licenseId ? (
        <Alert variant="destructive">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <FormField
        name="licenseId"
        label="License ID"
        type="password"
        autoComplete="current-password"
        errors={fieldErrors.licenseId}
        hint="From your license file or the pull secret your vendor sent. It stays in this form: it is never put in a link."
      />
      <div>
        <SubmitButton pendingLabel="Checking…">Sign in</SubmitButton>
      </div>
    </form>
  );
}
