import "server-only";
import { db } from "@/lib/db";
import { afterCursor, keysetPage } from "@/lib/pagination/keyset";

export const ACTIVITY_PAGE_SIZE = 25;

export interface ActivityPage {
  events: {
    id: string;
    createdAt: Date;
    actorType: string;
    actorLabel: string;
    action: string;
    resourceType: string;
    resourceId: string | null;
    metadata: Record<string, unknown>;
    ip: string | null;
  }[];
  /** Pass as `before` to get the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/**
 * A team's events, newest first, keyset-paginated on (createdAt, id): `before`
 * is the previous page's `nextCursor` (lib/pagination/keyset.ts); a malformed
 * one throws a ZodError (422 through the API, the first page in the portal).
 */
export async function listActivity(teamId: string, options: { before?: string; pageSize?: number } = {}): Promise<ActivityPage> {
  const take = Math.min(Math.max(options.pageSize ?? ACTIVITY_PAGE_SIZE, 1), 100);
  const rows = await db.activityEvent.findMany({
    where: { teamId, ...afterCursor(options.before) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: take + 1,
  });
  const { page, nextCursor } = keysetPage(rows, take);
  return { events: page.map((r) => ({ ...r, metadata: safeJson(r.metadata) })), nextCursor };
}

function safeJson(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
