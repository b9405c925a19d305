import { diskState } from "@/lib/disk/free-space";
import { humanBytes } from "@/lib/format/bytes";
import { ProxyError } from "@/lib/proxy/errors";

/**
 * The free-space floor for pushes (GANTRY_MIN_FREE_DISK): below it, on the
 * volume of the embedded registry's storage (which also holds the database
 * and the proxy cache by default), every push is refused so nothing new is
 * written; pulls and deletes go on. A backend's storage is its operator's to
 * watch (volumeDir null: no check).
 *
 * 403 DENIED rather than 507 Insufficient Storage: container clients
 * (containers/image in skopeo and podman, docker's distribution client) show
 * the registry's message only for a 4xx answer; for a 507 the vendor would
 * read "received unexpected HTTP status: 507 Insufficient Storage" and no more.
 */
export async function refuseBelowDiskFloor(volumeDir: string | null): Promise<void> {
  if (!volumeDir) return;
  const state = await diskState(volumeDir);
  if (!state?.belowFloor) return;
  throw new ProxyError(
    403,
    "DENIED",
    `Gantry's storage is almost full (${humanBytes(state.freeBytes)} free, floor ${humanBytes(state.floorBytes)}): pushes are refused until the operator frees space; pulls still work.`,
  );
}
