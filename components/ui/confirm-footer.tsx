"use client";

import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button, type ButtonProps } from "@/components/ui/button";
import { DialogClose, DialogFooter } from "@/components/ui/dialog";
import { SubmitButton } from "@/components/ui/submit-button";

/** The end of a confirmation dialog's form: the action's error, Cancel, and the button that confirms. */
export function ConfirmFooter({ error, confirmLabel, variant = "destructive", errorClassName }: { error?: string; confirmLabel: string; variant?: ButtonProps["variant"]; errorClassName?: string }) {
  return (
    <>
      {error ? (
        <Alert variant="destructive" className={errorClassName}>
          <AlertDescription>{error}</AlertDescription>
        </Alert>
      ) : null}
      <DialogFooter>
        <DialogClose asChild>
          <Button type="button" variant="outline">
            Cancel
          </Button>
        </DialogClose>
        <SubmitButton variant={variant}>{confirmLabel}</SubmitButton>
      </DialogFooter>
    </>
  );
}
