import { z } from "zod";

/**
 * Keyset pagination on (createdAt, id), newest first. A cursor is the last row
 * of a page, as an opaque string (base64url of "<ISO createdAt>|<id>"), and the
 * next page is every row strictly older in that order. Unlike Prisma's
 * `cursor`, which needs the cursor row to still match the filter (revoke the
 * last active customer on page 1 and the "active" page 2 came back empty),
 * this holds when the row has left the filter, been deleted, or when rows are
 * inserted meanwhile.
 */
export interface Keyset {
  createdAt: Date;
  id: string;
}

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function encodeCursor(row: Keyset): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`, "utf8").toString("base64url");
}

/** The cursor decoded, or null when it is not one this module made. */
export function decodeCursor(cursor: string): Keyset | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  const [iso, id, ...rest] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  if (rest.length > 0 || !iso || !id || !ISO_RE.test(iso) || !ID_RE.test(id)) return null;
  const createdAt = new Date(iso);
  if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== iso) return null;
  return { createdAt, id };
}

const CURSOR_MESSAGE = "This page link is not valid (bad cursor). Start again from the first page.";

/**
 * A request's cursor parameter, checked but kept as the string (pages pass
 * their parsed filters back into links): a bad one is a validation error (422),
 * never a crash. `decodeCursor` it where the query is built.
 */
export const cursorSchema = z
  .string()
  .trim()
  .max(200, CURSOR_MESSAGE)
  .refine((s) => decodeCursor(s) !== null, CURSOR_MESSAGE);

/** Decodes a cursor that `cursorSchema` accepted (throws a validation error otherwise). */
export function parseCursor(cursor: string): Keyset {
  const k = decodeCursor(cursor);
  if (!k) throw new z.ZodError([{ code: "custom", path: ["before"], message: CURSOR_MESSAGE, input: cursor }]);
  return k;
}

/**
 * Rows after `c` in (createdAt desc, id desc) order; AND it with the rest of the filter.
 * The redundant `createdAt <= c` lets both databases start the index walk at the
 * cursor instead of filtering every newer row (bench:db, 100,000 customers: the
 * page after 90,000 rows 10.7 → 0.7 ms on SQLite, 10.8 → 3.5 ms on PostgreSQL).
 */
export function olderThan(c: Keyset) {
  return { createdAt: { lte: c.createdAt }, OR: [{ createdAt: { lt: c.createdAt } }, { createdAt: c.createdAt, id: { lt: c.id } }] };
}

/** The `where` part for the page after an opaque cursor (none for the first page); throws on a bad cursor. */
export function afterCursor(before: string | undefined) {
  return before ? { AND: [olderThan(parseCursor(before))] } : {};
}

/** Splits a `take + 1` result into the page and the cursor of the next one (null on the last page). */
export function keysetPage<T extends Keyset>(rows: T[], take: number): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, take);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > take && last ? encodeCursor(last) : null };
}
