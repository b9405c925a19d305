import prettyBytes from "pretty-bytes";

/**
 * A byte count for people: binary units (as GANTRY_CACHE_MAX_BYTES' default,
 * 20 GiB), at most one decimal (or none, for axis ticks). `formatBytes` in
 * lib/registry-client/errors.ts is the exact form for limits in error
 * messages; this one rounds.
 */
export function humanBytes(bytes: number, decimals: 0 | 1 = 1): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "–";
  return prettyBytes(bytes, { binary: true, maximumFractionDigits: decimals, locale: "en" });
}
