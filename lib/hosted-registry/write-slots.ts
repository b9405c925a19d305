import { env } from "@/lib/env";
import { ProxyError } from "@/lib/proxy/errors";
import { processWide } from "@/lib/process-wide";

/**
 * Storage connections a team's uploads may hold at once, per process
 * (GANTRY_REGISTRY_WRITE_CONNECTIONS_PER_TEAM, 16). An upload's body streams
 * from the client to distribution on one connection for as long as the client
 * takes, so without a cap one team's slow uploads could hold every upload
 * connection. A request over the cap waits (first come, first served within
 * the team) up to WAIT_MS for one of the team's own uploads to finish, then
 * gets 429 TOOMANYREQUESTS with Retry-After: a push client retries the chunk.
 */
export const WRITE_SLOT_WAIT_MS = 10_000;
const RETRY_AFTER_SECONDS = 10;

interface TeamSlots {
  busy: number;
  waiting: (() => void)[];
}

const teams = () => processWide("hosted-registry:write-slots", () => new Map<string, TeamSlots>());

/** Slots a team holds now (tests, diagnostics). */
export const writeSlotsInUse = (teamId: string) => teams().get(teamId)?.busy ?? 0;

/** Takes one of the team's write slots, waiting up to `waitMs`; returns its release (idempotent). */
export async function takeWriteSlot(teamId: string, signal?: AbortSignal, waitMs = WRITE_SLOT_WAIT_MS): Promise<() => void> {
  const all = teams();
  let slots = all.get(teamId);
  if (!slots) {
    slots = { busy: 0, waiting: [] };
    all.set(teamId, slots);
  }
  const team = slots;
  const limit = env().registry.writeConnectionsPerTeam;
  if (team.busy >= limit) {
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        cleanup();
        resolve();
      };
      const giveUp = (e: unknown) => {
        cleanup();
        const i = team.waiting.indexOf(wake);
        if (i >= 0) team.waiting.splice(i, 1);
        reject(e);
      };
      const timer = setTimeout(
        () =>
          giveUp(
            new ProxyError(
              429,
              "TOOMANYREQUESTS",
              `Your team already streams ${limit} uploads to the registry at once (GANTRY_REGISTRY_WRITE_CONNECTIONS_PER_TEAM): retry this request in ${RETRY_AFTER_SECONDS} s, or push fewer layers in parallel.`,
              { "retry-after": String(RETRY_AFTER_SECONDS) },
            ),
          ),
        waitMs,
      );
      const onAbort = () => giveUp(signal?.reason ?? new Error("aborted"));
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      team.waiting.push(wake);
    });
    // The slot was handed over by its releaser: busy already counts it.
  } else {
    team.busy++;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const next = team.waiting.shift();
    if (next) {
      next();
      return;
    }
    team.busy--;
    if (team.busy === 0) all.delete(teamId);
  };
}
