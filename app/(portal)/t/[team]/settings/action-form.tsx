"use client";

import { useActionState } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import type { ActionResult } from "@/lib/http/team-action";

type Action<T> = (prev: ActionResult<T>, formData: FormData) => Promise<ActionResult<T>>;

/**
 * A form bound to a team action: posts the team slug, shows the result message,
 * and hands field errors and returned data to its children.
 */
export function ActionForm<T>({
  action,
  team,
  className,
  children,
  hideSuccess,
  testId,
}: {
  action: Action<T>;
  team: string;
  className?: string;
  hideSuccess?: boolean;
  testId?: string;
  children: (state: ActionResult<T>) => React.ReactNode;
}) {
  const [state, formAction] = useActionState(action, { ok: false });
  return (
    <form action={formAction} className={className} data-testid={testId} noValidate>
      <input type="hidden" name="team" value={team} />
      {children(state)}
      {state.message && !(state.ok && hideSuccess) ? (
        <Alert variant={state.ok ? "success" : "destructive"} className="mt-2">
          <AlertDescription>{state.message}</AlertDescription>
        </Alert>
      ) : null}
    </form>
  );
}
