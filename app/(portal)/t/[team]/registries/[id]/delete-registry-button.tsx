"use client";

import { useActionState } from "react";
import { Trash2 } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle, DialogTrigger } from "@/components/ui/dialog";
import { ConfirmFooter } from "@/components/ui/confirm-footer";
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
          <ConfirmFooter error={state.message} confirmLabel={`Delete ${name}`} errorClassName="mb-3" />
        </form>
      </DialogContent>
    </Dialog>
  );
}
