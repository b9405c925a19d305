"use client";

import { useActionState } from "react";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { FormField } from "@/components/forms/form-field";
import type { ActionResult } from "@/lib/http/team-action";
import type { TestResult } from "@/lib/registries/test-connection";
import { testConnectionAction } from "../actions";

export function TestConnectionForm({ team, id }: { team: string; id: string }) {
  const [state, formAction] = useActionState<ActionResult<TestResult>, FormData>(testConnectionAction, { ok: false });
  const r = state.data;
  return (
    <form action={formAction} className="grid gap-3" noValidate data-testid="test-connection-form">
      <input type="hidden" name="team" value={team} />
      <input type="hidden" name="id" value={id} />
      <div className="grid gap-3 sm:grid-cols-[1fr_auto] sm:items-end">
        <FormField name="image" label="Image to fetch (optional)" placeholder="acme/api:1.0" hint="Also fetch this manifest with the stored credentials." />
        <SubmitButton variant="outline" pendingLabel="Testing…">
          Test connection
        </SubmitButton>
      </div>
      {state.message && !state.ok ? (
        <Alert variant="destructive">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
      {r ? (
        <Alert variant={r.ok ? "success" : "destructive"} data-testid="test-result" data-outcome={r.outcome}>
          <AlertTitle>{r.ok ? "Connection works" : "Connection failed"}</AlertTitle>
          <AlertDescription>{r.message}</AlertDescription>
          {r.manifest ? (
            <AlertDescription data-testid="test-manifest">
              {r.manifest.message}
              {r.manifest.mediaType ? (
                <span className="mt-1 block font-mono text-xs">
                  {r.manifest.mediaType} · {r.manifest.digest}
                </span>
              ) : null}
            </AlertDescription>
          ) : null}
        </Alert>
      ) : null}
    </form>
  );
}
