"use client";

import { useActionState, useState } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { FormField } from "@/components/forms/form-field";
import { suggestSlug } from "@/lib/apps/slug";
import type { ActionResult } from "@/lib/http/team-action";
import { createAppAction } from "./actions";

export function NewAppForm({ team }: { team: string }) {
  const [state, formAction] = useActionState<ActionResult, FormData>(createAppAction, { ok: false });
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugEdited, setSlugEdited] = useState(false);
  return (
    <form action={formAction} className="grid gap-4" noValidate data-testid="new-app-form">
      <input type="hidden" name="team" value={team} />
      {state.message ? (
        <Alert variant="destructive">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <FormField
        name="name"
        label="App name"
        value={name}
        onChange={(e) => {
          setName(e.target.value);
          if (!slugEdited) setSlug(e.target.value ? suggestSlug(e.target.value) : "");
        }}
        errors={state.fieldErrors?.name}
      />
      <FormField
        name="slug"
        label="Slug"
        value={slug}
        onChange={(e) => {
          setSlug(e.target.value);
          setSlugEdited(true);
        }}
        hint="Lowercase letters, digits and single dashes, 3–40 characters. Suggested from the name."
        errors={state.fieldErrors?.slug}
      />
      <div>
        <SubmitButton pendingLabel="Creating…">Create app</SubmitButton>
      </div>
    </form>
  );
}
