import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "../../..");

/**
 * Gantry as a child process for the benches. `proxy` (default): lib/proxy's
 * handler on node:http (proxy-server.ts), exactly what lib/server mounts under
 * /v2/, without the portal. `full`: the production server, lib/server/main.ts
 * (`npm run serve`: Next's portal plus /v2/), which needs `npm run build`
 * first. `registry`: Gantry's own registry alone (registry-server.ts, which
 * seeds its own scratch database and prints one JSON line when ready).
 * Started with `node --import tsx` so the child's pid is the server's
 * (RSS is read from /proc/<pid>/status).
 */
export type GantryServerKind = "proxy" | "full" | "registry";
const ENTRIES: Record<GantryServerKind, { entry: string; readyLine: string }> = {
  proxy: { entry: "lib/ops/bench/proxy-server.ts", readyLine: "ready" },
  full: { entry: "lib/server/main.ts", readyLine: "listening on" },
  registry: { entry: "lib/ops/bench/registry-server.ts", readyLine: '"ready":true' },
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
}

export async function startGantry(opts: { port: number; env: Record<string, string>; server?: GantryServerKind }): Promise<GantryProcess> {
  const kind = opts.server ?? "proxy";
  if (kind === "full" && !fs.existsSync(path.join(root, ".next", "BUILD_ID"))) throw new Error("GANTRY_SERVER=full runs the production server: `npm run build` first");
  const { entry, readyLine } = ENTRIES[kind];
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "--require", "./lib/ops/server-only-shim.cjs", entry], {
    cwd: root,
    env: { ...process.env, ...opts.env, PORT: String(opts.port), HOST: "127.0.0.1", NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL"); // not left running behind a failed start
      reject(new Error(`Gantry did not start within 60 s:\n${stderr}`));
    }, 60_000);
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
  child.stdout?.resume();
  const pid = child.pid!;
  return {
    pid,
    port: opts.port,
    readyLine: ready,
    kill: () => void (child.exitCode === null && child.kill("SIGKILL")),
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
