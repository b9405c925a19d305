"use client";

import { useActionState } from "react";
import { Trash2 } from "lucide-react";
import { Button } from "@/components/ui/button";
import { ConfirmFooter } from "@/components/ui/confirm-footer";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle, DialogTrigger } from "@/components/ui/dialog";
import type { ActionResult } from "@/lib/http/team-action";
import { deleteImageTagAction } from "./actions";

/** Delete one tag, behind a confirmation that names it. */
export function DeleteTagButton({ team, app, repository, tag, image }: { team: string; app: string; repository: string; tag: string; image: string }) {
  const [state, formAction] = useActionState<ActionResult, FormData>(deleteImageTagAction, { ok: false });
  const name = `${repository}:${tag}`;
  return (
    <Dialog>
      <DialogTrigger asChild>
        <Button variant="ghost" size="icon" className="text-red-700 hover:bg-red-50 hover:text-red-800" aria-label={`Delete tag ${name}`}>
          <Trash2 className="size-4" aria-hidden />
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle className="wrap-anywhere">Delete tag {name}?</DialogTitle>
          <DialogDescription className="wrap-anywhere">
            Pulls of <code className="font-mono">{image}</code> stop working at once. The image itself stays reachable by digest, and other tags
            that point at it keep working.
          </DialogDescription>
        </DialogHeader>
        <form action={formAction}>
          <input type="hidden" name="team" value={team} />
          <input type="hidden" name="app" value={app} />
          <input type="hidden" name="repository" value={repository} />
          <input type="hidden" name="tag" value={tag} />
          <ConfirmFooter error={state.message} confirmLabel="Delete tag" errorClassName="mb-3" />
        </form>
      </DialogContent>
    </Dialog>
  );
}
