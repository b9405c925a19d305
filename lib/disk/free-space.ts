import fs from "node:fs";
import { env, type DiskFloor } from "@/lib/env";
import { log } from "@/lib/log";

/**
 * The free-space floor (GANTRY_MIN_FREE_DISK): the data volume holds the
 * SQLite file, the proxy cache and the registry's storage, so a writer that
 * fills it takes everything down. Below the floor, new cache fills stream
 * through uncached, pushes to Gantry's registry are refused, and /readyz
 * names `disk`; nothing already stored is touched.
 *
 * A volume is asked (statfs) at most once a second per directory; callers
 * get the last answer at once and a refresh runs in the background, so the
 * check costs nothing on a request's path after the first.
 */
export const DEFAULT_FLOOR_SHARE = 0.05;
export const DEFAULT_FLOOR_MIN_BYTES = 2 * 2 ** 30;
const SAMPLE_MS = 1_000;

export interface DiskState {
  dir: string;
  freeBytes: number;
  totalBytes: number;
  floorBytes: number;
  belowFloor: boolean;
}

/** The floor in bytes for a volume of `totalBytes`: the setting, or the larger of 5 % and 2 GiB. */
export function floorBytes(totalBytes: number, floor: DiskFloor | null): number {
  if (floor === null) return Math.max(Math.floor(totalBytes * DEFAULT_FLOOR_SHARE), DEFAULT_FLOOR_MIN_BYTES);
  if (floor.kind === "percent") return Math.floor((totalBytes * floor.percent) / 100);
  return floor.bytes;
}

interface Sample {
  at: number;
  state: DiskState | null;
  refreshing: Promise<DiskState | null> | null;
}
const samples = new Map<string, Sample>();

async function measure(dir: string): Promise<DiskState | null> {
  try {
    const s = await fs.promises.statfs(dir);
    // bavail: what an unprivileged writer may still use (root's reserve excluded).
    const freeBytes = s.bavail * s.bsize;
    const totalBytes = s.blocks * s.bsize;
    const floor = floorBytes(totalBytes, env().minFreeDisk);
    return { dir, freeBytes, totalBytes, floorBytes: floor, belowFloor: freeBytes < floor };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") log.warn("could not read a volume's free space", { dir, error: e instanceof Error ? e.message : String(e) });
    return null;
  }
}

function refresh(dir: string, sample: Sample): Promise<DiskState | null> {
  sample.refreshing ??= measure(dir).then((state) => {
    const wasBelow = sample.state?.belowFloor ?? false;
    sample.state = state;
    sample.at = Date.now();
    sample.refreshing = null;
    if (state && state.belowFloor !== wasBelow) {
      (state.belowFloor ? log.error : log.info)(state.belowFloor ? "free disk space below the floor: new cache fills stream through, pushes are refused" : "free disk space back above the floor", {
        dir,
        freeBytes: state.freeBytes,
        floorBytes: state.floorBytes,
      });
    }
    return state;
  });
  return sample.refreshing;
}

/**
 * The volume holding `dir` (null when it cannot be read: no floor is
 * enforced then). The first call waits for statfs; later calls answer from
 * the last sample and refresh it in the background once it is a second old.
 */
export async function diskState(dir: string): Promise<DiskState | null> {
  let sample = samples.get(dir);
  if (!sample) {
    sample = { at: 0, state: null, refreshing: null };
    samples.set(dir, sample);
    return refresh(dir, sample);
  }
  if (Date.now() - sample.at >= SAMPLE_MS) {
    const pending = refresh(dir, sample);
    if (sample.at === 0) return pending;
  }
  return sample.state;
}

/** Whether writing to `dir`'s volume would go below the floor (false when unknown). */
export async function belowDiskFloor(dir: string): Promise<boolean> {
  return (await diskState(dir))?.belowFloor ?? false;
}

/** For tests: forget every sample (after the environment changed). */
export function forgetDiskSamples(): void {
  samples.clear();
}
