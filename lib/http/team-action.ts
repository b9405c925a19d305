import "server-only";
import { headers } from "next/headers";
import { unstable_rethrow } from "next/navigation";
import { z } from "zod";
import type { FieldErrors } from "@/lib/errors";
import { requireUser } from "@/lib/auth/session";
import { clientIpFromHeaders } from "@/lib/net/client-ip";
import { toAppError } from "@/lib/http/map-error";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import type { Permission } from "@/lib/teams/roles";

/** What every form action returns; rendered with useActionState. */
export interface ActionResult<T = undefined> {
  ok: boolean;
  message?: string;
  fieldErrors?: FieldErrors;
  data?: T;
}

export const initialActionResult: ActionResult<never> = { ok: false };

/**
 * Wraps a team-scoped server action: session → zod (FormData) → team
 * authorization → call → error mapping. The form posts the team's slug in a
 * field named `team`; the caller's membership and role are checked on the
 * server every time, and another team's slug is "not found".
 */
export function teamAction<S extends z.ZodType, T = undefined>(
  permission: Permission,
  schema: S,
  handler: (input: z.output<S>, ctx: TeamContext) => Promise<ActionResult<T> | void>,
) {
  return async function action(_prev: ActionResult<T>, formData: FormData): Promise<ActionResult<T>> {
    try {
      const user = await requireUser();
      const fields = Object.fromEntries([...formData.entries()].filter(([k]) => !k.startsWith("$ACTION")));
      const teamSlug = typeof fields.team === "string" ? fields.team : "";
      const ctx = await teamContextForUser(user, teamSlug, permission, clientIpFromHeaders(await headers()));
      const input = schema.parse(fields);
      return (await handler(input, ctx)) ?? { ok: true };
    } catch (e) {
      unstable_rethrow(e); // redirect() and notFound() are control flow, not failures
      const err = toAppError(e, { action: permission });
      return { ok: false, message: err.message, fieldErrors: err.fields };
    }
  };
}
