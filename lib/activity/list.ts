import "server-only";
import { db } from "@/lib/db";

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

/** A team's events, newest first, keyset-paginated on (createdAt, id). */
export async function listActivity(teamId: string, options: { before?: string; pageSize?: number } = {}): Promise<ActivityPage> {
  const take = Math.min(Math.max(options.pageSize ?? ACTIVITY_PAGE_SIZE, 1), 100);
  const rows = await db.activityEvent.findMany({
    where: { teamId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: take + 1,
    ...(options.before ? { cursor: { id: options.before, teamId }, skip: 1 } : {}),
  });
  const page = rows.slice(0, take);
  return {
    events: page.map((r) => ({ ...r, metadata: safeJson(r.metadata) })),
    nextCursor: rows.length > take ? (page.at(-1)?.id ?? null) : null,
  };
}

function safeJson(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
