import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const repoRoot = path.resolve(__dirname, "../../..");

/**
 * Gantry as a child process for the benches. `proxy` (default): lib/proxy's
 * handler on node:http (proxy-server.ts), exactly what lib/server mounts under
 * /v2/, without the portal. `full`: the production server, lib/server/main.ts
 * (`npm run serve`: Next's portal plus /v2/), which needs `npm run build`
 * first. `registry`: Gantry's own registry alone (registry-server.ts, which
 * seeds its own scratch database and prints one JSON line when ready).
 * `airgap`: the air-gap bundle download alone (airgap-server.ts, likewise).
 * Started with `node --import tsx` so the child's pid is the server's
 * (RSS is read from /proc/<pid>/status).
 */
export type GantryServerKind = "proxy" | "full" | "registry" | "airgap";
const ENTRIES: Record<GantryServerKind, { entry: string; readyLine: string }> = {
  proxy: { entry: "lib/ops/bench/proxy-server.ts", readyLine: "ready" },
  full: { entry: "lib/server/main.ts", readyLine: "listening on" },
  registry: { entry: "lib/ops/bench/registry-server.ts", readyLine: '"ready":true' },
  airgap: { entry: "lib/ops/bench/airgap-server.ts", readyLine: '"ready":true' },
};

export interface GantryProcess {
  pid: number;
  port: number;
  /** The stdout line that said it was ready (registry-server.ts: its JSON). */
  readyLine: string;
  /** Stops the process (SIGTERM, SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** Kills it at once (exit handlers). */
  kill(): void;
  /** proxy kind: its event-loop delay, GC and CPU since the last call (proxy-server.ts, SIGUSR2), or null. */
  loopStats(): Promise<LoopStats | null>;
}

export interface LoopStats {
  /** Event-loop delay percentiles, ms. */
  eld: { p50: number; p90: number; p99: number; max: number };
  gc: { ms: number; count: number; maxMs: number; majorMs: number; majorCount: number; majorMaxMs: number };
  /** Headers parsed → response finished inside Gantry, ms; and connections accepted. */
  served: { n: number; p50: number; p99: number; max: number };
  accepted: number;
  acceptSpreadMs: number;
  /** Queries sent, by table (only with GANTRY_COUNT_DB_QUERIES=1). */
  queries: Record<string, number>;
  /** CPU time over wall time (1 = one core). */
  cpu: number;
}

/** `startTimeoutMs` (default 60 s): airgap-server.ts warms a release's images before it is ready. */
export async function startGantry(opts: { port: number; env: Record<string, string>; server?: GantryServerKind; root?: string; startTimeoutMs?: number }): Promise<GantryProcess> {
  const kind = opts.server ?? "proxy";
  const root = opts.root ?? repoRoot; // another checkout: SWEEP_BASELINE (baseline.ts)
  if (kind === "full" && !fs.existsSync(path.join(root, ".next", "BUILD_ID"))) throw new Error("GANTRY_SERVER=full runs the production server: `npm run build` first");
  const { entry, readyLine } = ENTRIES[kind];
  // GANTRY_NODE_ARGS (bench diagnostics only), e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const extra = (opts.env.GANTRY_NODE_ARGS ?? process.env.GANTRY_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...extra, "--import", "tsx", "--require", "./lib/ops/server-only-shim.cjs", entry], {
    cwd: root,
    env: { ...process.env, ...opts.env, PORT: String(opts.port), HOST: "127.0.0.1", NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const startTimeout = opts.startTimeoutMs ?? 60_000;
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL"); // not left running behind a failed start
      reject(new Error(`Gantry did not start within ${startTimeout / 1000} s:\n${stderr}`));
    }, startTimeout);
    const onData = (d: Buffer) => {
      stdout = (stdout + d.toString()).slice(-64_000);
      // Whole lines only: a long line may come in several chunks.
      const line = stdout.split("\n").slice(0, -1).find((l) => l.includes(readyLine));
      if (line !== undefined) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        resolve(line);
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Gantry exited with ${code} at start:\n${stderr}`));
    });
  });
  const lines: ((line: string) => void)[] = [];
  let tail = "";
  child.stdout?.on("data", (d: Buffer) => {
    const parts = (tail + d.toString()).split("\n");
    tail = parts.pop()!.slice(-64_000);
    for (const l of parts) for (const f of lines.splice(0)) f(l);
  });
  const pid = child.pid!;
  return {
    pid,
    port: opts.port,
    readyLine: ready,
    kill: () => void (child.exitCode === null && child.kill("SIGKILL")),
    loopStats: async () => {
      if (kind !== "proxy" || child.exitCode !== null) return null;
      const line = await new Promise<string | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), 2_000);
        const wait = (l: string) => {
          if (!l.startsWith('{"eld"')) return void lines.push(wait);
          clearTimeout(timer);
          resolve(l);
        };
        lines.push(wait);
        child.kill("SIGUSR2");
      });
      return line ? (JSON.parse(line) as LoopStats) : null;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      }),
  };
}

/** Resident set size of a process, in bytes (VmRSS from /proc). */
export function rssBytes(pid: number): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:")) ?? "";
  return Number(/(\d+) kB/.exec(line)?.[1] ?? NaN) * 1024;
}
