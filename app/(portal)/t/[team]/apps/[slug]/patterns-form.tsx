"use client";

import { useActionState, useState } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { FieldError } from "@/components/ui/field-error";
import { Label } from "@/components/ui/label";
import { SubmitButton } from "@/components/ui/submit-button";
import { Textarea } from "@/components/ui/textarea";
import type { ActionResult } from "@/lib/http/team-action";
import { savePatternsAction } from "./releases/actions";

/** The app's extra repository patterns, one per line (admins). */
export function PatternsForm({ team, app, patterns }: { team: string; app: string; patterns: string[] }) {
  const [state, formAction] = useActionState<ActionResult, FormData>(savePatternsAction, { ok: false });
  // Controlled: React resets uncontrolled fields after the action, and a rejected pattern must stay to be fixed.
  const [text, setText] = useState(patterns.join("\n"));
  const errors = Object.entries(state.fieldErrors ?? {})
    .filter(([k]) => k.startsWith("patterns"))
    .flatMap(([, v]) => v);
  return (
    <form action={formAction} className="grid gap-3" noValidate data-testid="patterns-form">
      <input type="hidden" name="team" value={team} />
      <input type="hidden" name="app" value={app} />
      <div className="grid gap-1.5">
        <Label htmlFor="patterns">Extra repository patterns</Label>
        <Textarea
          id="patterns"
          name="patterns"
          rows={4}
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder={"quay.io/acme/*\nghcr.io/acme/charts/**"}
          aria-invalid={errors.length ? true : undefined}
          aria-describedby={errors.length ? "patterns-hint patterns-error" : "patterns-hint"}
        />
        <p id="patterns-hint" className="text-xs text-zinc-500">
          One per line, <code>&lt;registry&gt;/&lt;repository&gt;</code>. <code>*</code> matches within one path segment, <code>**</code> across segments.
        </p>
        <FieldError id="patterns-error" errors={errors} />
      </div>
      {state.message ? (
        <Alert variant={state.ok ? "success" : "destructive"}>
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      <div>
        <SubmitButton variant="outline" pendingLabel="Saving…">
          Save patterns
        </SubmitButton>
      </div>
    </form>
  );
}
