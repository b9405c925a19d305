import "server-only";
import type { Db, Tx } from "@/lib/db";
import type { ActivityAction } from "@/lib/activity/actions";

/** Who did it: a signed-in user, a team API token, or Gantry itself (CLI, jobs). */
export type Actor =
  | { type: "user"; id: string; label: string }
  | { type: "api_token"; id: string; label: string }
  | { type: "system"; id?: undefined; label: string };

export interface ActivityInput {
  teamId: string;
  actor: Actor;
  action: ActivityAction;
  resourceType: string;
  resourceId?: string | null;
  metadata?: Record<string, string | number | boolean | null>;
  ip?: string | null;
}

/** Appends one event. The table is append-only: nothing updates or deletes rows. */
export async function recordActivity(client: Db | Tx, input: ActivityInput): Promise<void> {
  await client.activityEvent.create({
    data: {
      teamId: input.teamId,
      actorType: input.actor.type,
      actorId: input.actor.id ?? null,
      actorLabel: input.actor.label,
      action: input.action,
      resourceType: input.resourceType,
      resourceId: input.resourceId ?? null,
      metadata: JSON.stringify(input.metadata ?? {}),
      ip: input.ip ?? null,
    },
  });
}
