"use client";

import { useActionState, useState } from "react";
import { Archive, ArchiveRestore, RefreshCw } from "lucide-react";
import { ImageStatusBadge } from "@/components/releases/image-status";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle, DialogTrigger } from "@/components/ui/dialog";
import { ConfirmFooter } from "@/components/ui/confirm-footer";
import { SubmitButton } from "@/components/ui/submit-button";
import type { ActionResult } from "@/lib/http/team-action";
import { archiveReleaseAction, reprobeReleaseAction } from "../actions";

type Changes = NonNullable<Awaited<ReturnType<typeof reprobeReleaseAction>>["data"]>;

const short = (digest: string | null) => (digest ? digest.replace(/^sha256:/, "").slice(0, 12) : "no digest");

/** Re-probe (with the list of what changed) and archive/unarchive behind a confirmation. */
export function ReleaseControls({ team, app, version, archived }: { team: string; app: string; version: string; archived: boolean }) {
  const [probe, probeAction] = useActionState<ActionResult<Changes>, FormData>(reprobeReleaseAction, { ok: false });
  const [open, setOpen] = useState(false);
  const [archiveState, archiveAction] = useActionState<ActionResult, FormData>(async (prev, formData) => {
    const result = await archiveReleaseAction(prev, formData);
    if (result.ok) setOpen(false);
    return result;
  }, { ok: false });
  const hidden = (
    <>
      <input type="hidden" name="team" value={team} />
      <input type="hidden" name="app" value={app} />
      <input type="hidden" name="version" value={version} />
    </>
  );
  return (
    <div className="grid gap-3">
      <div className="flex flex-wrap gap-2">
        <form action={probeAction}>
          {hidden}
          <SubmitButton variant="outline" pendingLabel="Re-probing…">
            <RefreshCw className="size-4" aria-hidden /> Re-probe
          </SubmitButton>
        </form>
        <Dialog open={open} onOpenChange={setOpen}>
          <DialogTrigger asChild>
            <Button variant="outline">
              {archived ? <ArchiveRestore className="size-4" aria-hidden /> : <Archive className="size-4" aria-hidden />}
              {archived ? "Unarchive" : "Archive"}
            </Button>
          </DialogTrigger>
          <DialogContent>
            <DialogHeader>
              <DialogTitle>{archived ? `Unarchive release ${version}?` : `Archive release ${version}?`}</DialogTitle>
              <DialogDescription>
                {archived
                  ? "Its private images become pullable again for the app's licenses (within their pins)."
                  : "Licenses can no longer pull its images, unless another active release or an extra pattern allows them. You can unarchive it later."}
              </DialogDescription>
            </DialogHeader>
            <form action={archiveAction} className="grid gap-4">
              {hidden}
              <input type="hidden" name="archive" value={archived ? "0" : "1"} />
              <ConfirmFooter
                error={archiveState.ok ? undefined : archiveState.message}
                confirmLabel={archived ? `Unarchive ${version}` : `Archive ${version}`}
                variant={archived ? "default" : "destructive"}
              />
            </form>
          </DialogContent>
        </Dialog>
      </div>
      {archiveState.ok && archiveState.message ? (
        <Alert variant="success">
          <AlertDescription>{archiveState.message}</AlertDescription>
        </Alert>
      ) : null}
      {probe.message ? (
        <Alert variant={probe.ok ? (probe.data?.length ? "warning" : "success") : "destructive"} data-testid="reprobe-result">
          <AlertTitle>{probe.message}</AlertTitle>
          {probe.data?.length ? (
            <ul className="mt-1 grid gap-1.5">
              {probe.data.map((c) => (
                <li key={c.image} className="flex flex-wrap items-center gap-1.5">
                  <code className="font-mono text-xs break-all">{c.image}</code>
                  <ImageStatusBadge status={c.from.status} />
                  <span className="font-mono text-xs">{short(c.from.digest)}</span>→
                  <ImageStatusBadge status={c.to.status} />
                  <span className="font-mono text-xs">{short(c.to.digest)}</span>
                </li>
              ))}
            </ul>
          ) : null}
        </Alert>
      ) : null}
    </div>
  );
}
