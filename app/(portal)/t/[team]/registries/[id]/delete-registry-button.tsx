"use client";

import { useActionState } from "react";
import { Trash2 } from "lucide-react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog, DialogClose, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from "@/components/ui/dialog";
import { SubmitButton } from "@/components/ui/submit-button";
import type { ActionResult } from "@/lib/http/team-action";
import { deleteRegistryAction } from "../actions";

export function DeleteRegistryButton({ team, id, name }: { team: string; id: string; name: string }) {
  const [state, formAction] = useActionState<ActionResult, FormData>(deleteRegistryAction, { ok: false });
  return (
    <Dialog>
      <DialogTrigger asChild>
        <Button variant="outline" className="text-red-700">
          <Trash2 className="size-4" aria-hidden /> Delete registry
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Delete {name}?</DialogTitle>
          <DialogDescription>
            Its stored credentials are destroyed. Apps whose images come from this registry can no longer be pulled through Gantry until you add it
            again.
          </DialogDescription>
        </DialogHeader>
        <form action={formAction}>
          <input type="hidden" name="team" value={team} />
          <input type="hidden" name="id" value={id} />
          {state.message ? (
            <Alert variant="destructive" className="mb-3">
              <AlertDescription>{state.message}</AlertDescription>
            </Alert>
          ) : null}
          <DialogFooter>
            <DialogClose asChild>
              <Button type="button" variant="outline">
                Cancel
              </Button>
            </DialogClose>
            <SubmitButton variant="destructive">Delete {name}</SubmitButton>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
