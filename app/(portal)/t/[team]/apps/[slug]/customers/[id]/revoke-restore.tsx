"use client";

import { useActionState, useState } from "react";
import { Ban, RotateCcw } from "lucide-react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle, DialogTrigger } from "@/components/ui/dialog";
import { ConfirmFooter } from "@/components/ui/confirm-footer";
import { FormField } from "@/components/forms/form-field";
import type { ActionResult } from "@/lib/http/team-action";
import { restoreLicenseAction, revokeLicenseAction } from "../../../actions";

interface Props {
  team: string;
  app: string;
  customerId: string;
  customerName: string;
  licenseRowId: string;
  revoked: boolean;
}

/** Revoke or restore, each behind a confirmation that names the customer. */
export function RevokeRestore({ team, app, customerId, customerName, licenseRowId, revoked }: Props) {
  const [open, setOpen] = useState(false);
  const [state, formAction] = useActionState<ActionResult, FormData>(async (prev, formData) => {
    const result = await (revoked ? restoreLicenseAction : revokeLicenseAction)(prev, formData);
    if (result.ok) setOpen(false);
    return result;
  }, { ok: false });
  return (
    <>
      <Dialog open={open} onOpenChange={setOpen}>
        <DialogTrigger asChild>
          {revoked ? (
            <Button variant="outline">
              <RotateCcw className="size-4" aria-hidden /> Restore license
            </Button>
          ) : (
            <Button variant="destructive">
              <Ban className="size-4" aria-hidden /> Revoke license
            </Button>
          )}
        </DialogTrigger>
        <DialogContent>
          <DialogHeader>
            <DialogTitle>{revoked ? `Restore ${customerName}'s license?` : `Revoke ${customerName}'s license?`}</DialogTitle>
            <DialogDescription>
              {revoked
                ? `${customerName} can pull your private images again at once.`
                : `${customerName} can no longer pull your private images through Gantry. Pulls already running are cut off on their next request.`}
            </DialogDescription>
          </DialogHeader>
          <form action={formAction} className="grid gap-4">
            <input type="hidden" name="team" value={team} />
            <input type="hidden" name="app" value={app} />
            <input type="hidden" name="customerId" value={customerId} />
            <input type="hidden" name="licenseRowId" value={licenseRowId} />
            {revoked ? null : <FormField name="reason" label="Reason (optional, kept in the activity log)" errors={state.fieldErrors?.reason} />}
            <ConfirmFooter
              error={state.ok ? undefined : state.message}
              confirmLabel={revoked ? `Restore ${customerName}` : `Revoke ${customerName}`}
              variant={revoked ? "default" : "destructive"}
            />
          </form>
        </DialogContent>
      </Dialog>
      {state.ok && state.message ? (
        <Alert variant="success" className="basis-full">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
    </>
  );
}
