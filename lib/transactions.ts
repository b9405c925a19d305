import "server-only";
import { db, type Tx } from "@/lib/db";

/**
 * Runs `fn` in a SERIALIZABLE transaction and retries it when the database
 * aborts it as a serialization failure (PostgreSQL SQLSTATE 40001/40P01,
 * surfaced by Prisma as P2034). Use it where an invariant spans several rows
 * ("a team keeps an owner", "the slug locks at the first license") and a
 * conditional update on one row cannot state it. SQLite only knows this level
 * (one writer at a time; its transactions begin IMMEDIATE, lib/db-sqlite.ts), so
 * there it never retries. `fn` must only touch the
 * database through `tx`: it may run more than once.
 */
export async function serializable<T>(fn: (tx: Tx) => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.$transaction(fn, { isolationLevel: "Serializable" });
    } catch (e) {
      if (attempt >= attempts || !isSerializationFailure(e)) throw e;
      // Back off a little, with jitter, so the transactions that collided do not collide again.
      await new Promise((r) => setTimeout(r, Math.random() * 10 * 2 ** attempt));
    }
  }
}

/** P2034 ("write conflict or deadlock, retry"), or the PostgreSQL codes underneath it. */
function isSerializationFailure(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur && typeof cur === "object" && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    const original = (cur as { meta?: { code?: unknown }; originalCode?: unknown }).meta?.code ?? (cur as { originalCode?: unknown }).originalCode;
    if (code === "P2034" || code === "40001" || code === "40P01" || original === "40001" || original === "40P01") return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

/** A unique constraint refused the write (P2002). */
export function isUniqueViolation(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === "P2002";
}
