import { db } from "@/lib/db";

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

export async function clearReadOnly(): Promise<void> {
  await db.registryState.upsert({ where: { id: STATE_ID }, create: { id: STATE_ID, readOnlyUntil: null, reason: null }, update: { readOnlyUntil: null, reason: null } });
  cached = undefined;
}

/** How long a writer may already be past the check when the switch turns on: the collector waits this long. */
export const READ_ONLY_SETTLE_MS = CACHE_MS * 2;
