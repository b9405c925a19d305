"use client";

import { useActionState } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { SubmitButton } from "@/components/ui/submit-button";
import type { ActionResult } from "@/lib/http/team-action";
import { acceptInvitationAction, declineInvitationAction } from "./actions";

export interface InvitationView {
  id: string;
  role: string;
  teamName: string;
  teamSlug: string;
  invitedByLabel: string;
  expiresAt: string;
}

const initial: ActionResult = { ok: false };

/** One invitation with Accept and Decline; each shows its own error (e.g. cancelled meanwhile). */
export function InvitationCard({ invitation }: { invitation: InvitationView }) {
  const [accept, acceptAction] = useActionState(acceptInvitationAction, initial);
  const [decline, declineAction] = useActionState(declineInvitationAction, initial);
  const message = accept.message ?? decline.message;
  const failed = (accept.message && !accept.ok) || (decline.message && !decline.ok);
  return (
    <Card data-testid={`invitation-${invitation.teamSlug}`}>
      <CardHeader>
        <CardTitle className="break-words">{invitation.teamName}</CardTitle>
        <CardDescription>
          {invitation.invitedByLabel} invited you as <span className="font-medium capitalize text-zinc-900">{invitation.role}</span>. Open until{" "}
          {invitation.expiresAt.slice(0, 10)}.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-3">
        {message ? (
          <Alert variant={failed ? "destructive" : "success"}>
            <AlertDescription>{message}</AlertDescription>
          </Alert>
        ) : null}
        {decline.ok ? null : (
          <div className="flex flex-wrap gap-2">
            <form action={acceptAction}>
              <input type="hidden" name="invitationId" value={invitation.id} />
              <SubmitButton pendingLabel="Joining…">Accept</SubmitButton>
            </form>
            <form action={declineAction}>
              <input type="hidden" name="invitationId" value={invitation.id} />
              <SubmitButton variant="outline" pendingLabel="Declining…">
                Decline
              </SubmitButton>
            </form>
          </div>
        )}
      </CardContent>
    </Card>
  );
}
