import { db } from "@/lib/db";
import { ProxyError } from "@/lib/proxy/errors";

/**
 * The registry's read-only switch, shared by every replica through the
 * database (RegistryState "registry"): `npm run gantry -- registry gc` turns
 * it on for the collector's run. Read at most every 500 ms per process.
 */
const STATE_ID = "registry";
const CACHE_MS = 500;
let cached: { at: number; state: { reason: string | null; until: Date } | null } | undefined;

export async function readOnlyState(now = new Date()): Promise<{ reason: string | null; until: Date } | null> {
  if (cached && now.getTime() - cached.at < CACHE_MS) return cached.state && cached.state.until > now ? cached.state : null;
  const row = await db.registryState.findUnique({ where: { id: STATE_ID } });
  const state = row?.readOnlyUntil && row.readOnlyUntil > now ? { reason: row.reason, until: row.readOnlyUntil } : null;
  cached = { at: now.getTime(), state };
  return state;
}

/** Turns writes off until `until` (a deadline, so a crashed collector cannot leave the registry read-only forever). */
export async function setReadOnly(until: Date, reason: string): Promise<void> {
  await db.registryState.upsert({ where: { id: STATE_ID }, create: { id: STATE_ID, readOnlyUntil: until, reason }, update: { readOnlyUntil: until, reason } });
  cached = undefined;
}

/**
 * Turns writes off for a collection unless they are off already (another
 * collection runs): null when this caller turned them off, else until when
 * they already are. A conditional update, so two collectors cannot both win.
 */
export async function claimReadOnly(until: Date, reason: string, now = new Date()): Promise<Date | null> {
  await db.registryState.upsert({ where: { id: STATE_ID }, create: { id: STATE_ID, readOnlyUntil: null, reason: null }, update: {} });
  const { count } = await db.registryState.updateMany({
    where: { id: STATE_ID, OR: [{ readOnlyUntil: null }, { readOnlyUntil: { lte: now } }] },
    data: { readOnlyUntil: until, reason },
  });
  cached = undefined;
  if (count === 1) return null;
  const row = await db.registryState.findUnique({ where: { id: STATE_ID }, select: { readOnlyUntil: true } });
  return row?.readOnlyUntil ?? until;
}

export async function clearReadOnly(): Promise<void> {
  await db.registryState.upsert({ where: { id: STATE_ID }, create: { id: STATE_ID, readOnlyUntil: null, reason: null }, update: { readOnlyUntil: null, reason: null } });
  cached = undefined;
}

/** How long a writer may already be past the check when the switch turns on: the collector waits this long. */
export const READ_ONLY_SETTLE_MS = CACHE_MS * 2;

/** 503 in the registry format while writes are off (a push or delete is refused; pulls go on). */
export async function refuseWhileReadOnly(): Promise<void> {
  const state = await readOnlyState();
  if (state) {
    throw new ProxyError(503, "UNAVAILABLE", `The registry is read-only for now (${state.reason ?? "maintenance"}); pulls work. Try the push again in a few minutes.`, {
      "retry-after": "60",
    });
  }
}
