"use client";

import { useActionState, useState } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { SubmitButton } from "@/components/ui/submit-button";
import { FormField } from "@/components/forms/form-field";
import type { ActionResult } from "@/lib/http/team-action";
import { setPinAction } from "../../releases/actions";

/** Limits a license to releases up to a version and/or published before a day. Both empty: every release. */
export function PinForm(props: { team: string; app: string; customerId: string; licenseRowId: string; maxVersion: string; releasedBefore: string; versions: string[] }) {
  const [state, formAction] = useActionState<ActionResult, FormData>(setPinAction, { ok: false });
  const e = state.fieldErrors ?? {};
  // Controlled: React resets uncontrolled fields after the action; the saved (or rejected) pin stays shown.
  const [maxVersion, setMaxVersion] = useState(props.maxVersion);
  const [releasedBefore, setReleasedBefore] = useState(props.releasedBefore);
  return (
    <form action={formAction} className="grid gap-3" noValidate data-testid="pin-form">
      <input type="hidden" name="team" value={props.team} />
      <input type="hidden" name="app" value={props.app} />
      <input type="hidden" name="customerId" value={props.customerId} />
      <input type="hidden" name="licenseRowId" value={props.licenseRowId} />
      <div className="grid gap-3 sm:grid-cols-2">
        <FormField
          name="maxVersion"
          label="Up to version"
          value={maxVersion}
          onChange={(ev) => setMaxVersion(ev.target.value)}
          errors={e.maxVersion}
          list="pin-versions"
          autoComplete="off"
          placeholder={props.versions[0] ?? "1.4.0"}
          hint="A release's version, or any version label. Empty: no limit."
        />
        <FormField name="releasedBefore" label="Released before" type="date" value={releasedBefore} onChange={(ev) => setReleasedBefore(ev.target.value)} errors={e.releasedBefore} hint="Releases created before this day (UTC). Empty: no limit." />
      </div>
      <datalist id="pin-versions">
        {props.versions.map((v) => (
          <option key={v} value={v} />
        ))}
      </datalist>
      <div>
        <SubmitButton variant="outline" pendingLabel="Saving…">
          Save pin
        </SubmitButton>
      </div>
      {state.message ? (
        <Alert variant={state.ok ? "success" : "destructive"}>
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
    </form>
  );
}
