import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface WrkResult {
  requestsPerSecond: number;
  /** Milliseconds. */
  meanLatency: number;
  p50Latency: number;
  p90Latency: number;
  p99Latency: number;
  maxLatency: number;
  requests: number;
  /** Non-2xx/3xx answers plus socket errors: a run with any is not a valid figure. */
  errors: number;
}

/**
 * wrk comes from Debian (`apt-get install -y wrk`); installed here when
 * missing and running as root, like lib/ops/install-test-packages.sh.
 */
export function ensureWrk(): void {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return;
  } catch (e) {
    // wrk --version exits 1 after printing its version: only a missing binary is a problem.
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") return;
  }
  if (process.getuid?.() !== 0) throw new Error("wrk is missing: sudo apt-get install -y wrk");
  console.log("installing wrk from Debian…");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "inherit"], env });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "wrk"], { stdio: ["ignore", "ignore", "inherit"], env });
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function toMs(value: string, unit: string): number {
  return Number(value) * (UNIT_MS[unit] ?? NaN);
}

const DURATION = String.raw`([\d.]+)(us|ms|s|m)\b`;

/** Parses wrk's `--latency` report. */
export function parseWrk(out: string): WrkResult {
  // "Latency   avg   stdev   max   +/- stdev" (the thread stats line).
  const stats = new RegExp(String.raw`Latency\s+${DURATION}\s+${DURATION}\s+${DURATION}`).exec(out);
  const pct = (p: number) => {
    const m = new RegExp(String.raw`\b${p}%\s+${DURATION}`).exec(out);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const reqs = /(\d+) requests in/.exec(out);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    requestsPerSecond: rps ? Number(rps[1]) : NaN,
    meanLatency: stats ? toMs(stats[1]!, stats[2]!) : NaN,
    maxLatency: stats ? toMs(stats[5]!, stats[6]!) : NaN,
    p50Latency: pct(50),
    p90Latency: pct(90),
    p99Latency: pct(99),
    requests: reqs ? Number(reqs[1]) : 0,
    errors: (non2xx ? Number(non2xx[1]) : 0) + socketErrors,
  };
}

/**
 * One wrk run: `connections` connections on `threads` threads (default 2) for
 * `seconds`, with the given headers. wrk's own timeout is raised to 10 s so a
 * starved connection shows up as latency, not as a timeout error that drops it
 * from the percentiles.
 */
export async function wrk(url: string, headers: Record<string, string>, opts: { connections: number; seconds: number; threads?: number }): Promise<WrkResult> {
  const args = ["-t", String(opts.threads ?? 2), "-c", String(opts.connections), "-d", `${opts.seconds}s`, "--timeout", "10s", "--latency"];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  args.push(url);
  const { stdout } = await run("wrk", args, { maxBuffer: 4 * 1024 * 1024 });
  return parseWrk(stdout);
}
