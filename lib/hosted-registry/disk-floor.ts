import { diskState } from "@/lib/disk/free-space";
import { humanBytes } from "@/lib/format/bytes";
import { ProxyError } from "@/lib/proxy/errors";

/**
 * The free-space floor for pushes (GANTRY_MIN_FREE_DISK): below it, on the
 * volume of the embedded registry's storage (which also holds the database
 * and the proxy cache by default), every push is refused with 507 so nothing
 * new is written; pulls and deletes go on. A backend's storage is its
 * operator's to watch (volumeDir null: no check).
 */
export async function refuseBelowDiskFloor(volumeDir: string | null): Promise<void> {
  if (!volumeDir) return;
  const state = await diskState(volumeDir);
  if (!state?.belowFloor) return;
  throw new ProxyError(
    507,
    "DENIED",
    `Gantry's storage is almost full (${humanBytes(state.freeBytes)} free, floor ${humanBytes(state.floorBytes)}): pushes are refused until the operator frees space; pulls still work.`,
  );
}
