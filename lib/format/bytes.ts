const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;
const formats = [0, 1].map((digits) => new Intl.NumberFormat("en", { maximumFractionDigits: digits }));

/**
 * A byte count for people: binary units (as GANTRY_CACHE_MAX_BYTES' default,
 * 20 GiB), at most one decimal (or none, for axis ticks). `formatBytes` in lib/registry-client/errors.ts
 * is the exact form for limits in error messages; this one rounds.
 */
export function humanBytes(bytes: number, decimals: 0 | 1 = 1): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "–";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // 1023.96 KiB would print as "1,024 KiB": step up instead.
  if (unit < UNITS.length - 1 && Number(value.toFixed(decimals)) >= 1024) {
    value /= 1024;
    unit++;
  }
  return `${formats[decimals]?.format(value) ?? value} ${UNITS[unit]}`;
}
