"use client";

import Link from "next/link";
import { useActionState } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { FormField } from "@/components/forms/form-field";
import { signUpAction } from "../actions";

export function SignUpForm() {
  const [state, formAction] = useActionState(signUpAction, { ok: false });
  const e = state.fieldErrors ?? {};
  return (
    <form action={formAction} className="grid gap-4" noValidate>
      {state.message ? (
        <Alert variant="destructive" data-testid="form-error">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <FormField name="name" label="Your name" autoComplete="name" errors={e.name} />
      <FormField name="email" label="Work email" type="email" autoComplete="email" required errors={e.email} />
      <FormField
        name="password"
        label="Password"
        type="password"
        autoComplete="new-password"
        required
        hint="At least 10 characters."
        errors={e.password}
      />
      <FormField name="teamName" label="Team name" required hint="Usually your company. You can add more teams later." errors={e.teamName} />
      <SubmitButton pendingLabel="Creating your account…">Create account</SubmitButton>
      <p className="text-center text-sm text-zinc-600">
        Already have an account?{" "}
        <Link href="/sign-in" className="font-medium text-indigo-700 hover:underline">
          Sign in
        </Link>
      </p>
    </form>
  );
}
