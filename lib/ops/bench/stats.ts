/** Small statistics and report helpers for the benches. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function summarize(xs: number[]): Summary {
  const sorted = [...xs].sort((a, b) => a - b);
  const n = sorted.length;
  // The true median: the mean of the two middle values for an even count.
  const median = n === 0 ? NaN : n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted[n - 1] ?? NaN, n };
}

export interface Verdict {
  name: string;
  pass: boolean;
  /** What was measured against what, and by how much it passed or missed. */
  detail: string;
}

/** measured ≤ limit (a ratio or a value), with the margin in the same unit. */
export function atMost(name: string, measured: number, limit: number, unit = "", digits = 2): Verdict {
  const pass = Number.isFinite(measured) && measured <= limit;
  const margin = limit - measured;
  return { name, pass, detail: `${measured.toFixed(digits)}${unit} vs ≤ ${limit.toFixed(digits)}${unit} (margin ${margin >= 0 ? "+" : ""}${margin.toFixed(digits)}${unit})` };
}

/** measured ≥ limit, with the margin. */
export function atLeast(name: string, measured: number, limit: number, unit = "", digits = 2): Verdict {
  const pass = Number.isFinite(measured) && measured >= limit;
  const margin = measured - limit;
  return { name, pass, detail: `${measured.toFixed(digits)}${unit} vs ≥ ${limit.toFixed(digits)}${unit} (margin ${margin >= 0 ? "+" : ""}${margin.toFixed(digits)}${unit})` };
}

export function check(name: string, pass: boolean, detail: string): Verdict {
  return { name, pass, detail };
}

export function printVerdicts(verdicts: Verdict[]): void {
  const width = Math.max(...verdicts.map((v) => v.name.length));
  for (const v of verdicts) console.log(`${v.pass ? "PASS" : "MISS"}  ${v.name.padEnd(width)}  ${v.detail}`);
}

/** A plain text table: the first row is the header, columns padded to their widest cell. */
export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(rows[0]!));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows.slice(1)) console.log(line(r));
}

export const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
