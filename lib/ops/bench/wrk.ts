import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface WrkResult {
  requestsPerSecond: number;
  /** Milliseconds. */
  meanLatency: number;
  p99Latency: number;
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

/** Parses wrk's `--latency` report. */
function parseWrk(out: string): WrkResult {
  const mean = /Latency\s+([\d.]+)(us|ms|s|m)\b/.exec(out);
  const p99 = /\b99%\s+([\d.]+)(us|ms|s|m)\b/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const reqs = /(\d+) requests in/.exec(out);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    requestsPerSecond: rps ? Number(rps[1]) : NaN,
    meanLatency: mean ? toMs(mean[1]!, mean[2]!) : NaN,
    p99Latency: p99 ? toMs(p99[1]!, p99[2]!) : NaN,
    requests: reqs ? Number(reqs[1]) : 0,
    errors: (non2xx ? Number(non2xx[1]) : 0) + socketErrors,
  };
}

/** One wrk run: `connections` connections on 2 threads for `seconds`, with the given headers. */
export async function wrk(url: string, headers: Record<string, string>, opts: { connections: number; seconds: number }): Promise<WrkResult> {
  const args = ["-t", "2", "-c", String(opts.connections), "-d", `${opts.seconds}s`, "--latency"];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  args.push(url);
  const { stdout } = await run("wrk", args, { maxBuffer: 4 * 1024 * 1024 });
  return parseWrk(stdout);
}
