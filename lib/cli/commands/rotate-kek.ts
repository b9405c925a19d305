import { rotateKek as rotate } from "@/lib/secrets/rotate-kek";

/**
 * `rotate-kek`: re-wraps every data key under the current KEK (GANTRY_KEK_CURRENT).
 * Keep the old key in GANTRY_KEKS until this reports no failures.
 */
export async function rotateKekCommand() {
  const report = await rotate();
  return { ...report, ok: report.failed.length === 0 };
}
