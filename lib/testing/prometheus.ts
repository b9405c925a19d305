import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort, waitForHttp } from "./registries/ports";

const run = promisify(execFile);

/**
 * Debian's Prometheus (`prometheus`, with `promtool`), run by tests as an
 * operator runs it: a scrape config, its own data directory, its HTTP API on
 * a free loopback port. Targets are scraped every second.
 */
export interface ScrapeJob {
  name: string;
  /** host:port */
  target: string;
  /** A bearer token Prometheus sends (GANTRY_METRICS_TOKEN). */
  bearer?: string;
}

export interface RunningPrometheus {
  url: string;
  /** An instant query (/api/v1/query): each series' labels and value. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  /** Polls `promql` until `ok` holds for its result (Prometheus scrapes every second), or fails after `timeoutMs`. */
  waitFor(promql: string, ok: (values: number[]) => boolean, timeoutMs?: number): Promise<number[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(jobs: ScrapeJob[]): Promise<RunningPrometheus> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-prometheus-"));
  const scrapeConfigs = jobs.map((j) => {
    const lines = [`  - job_name: ${JSON.stringify(j.name)}`, "    metrics_path: /metrics", `    static_configs: [{ targets: [${JSON.stringify(j.target)}] }]`];
    if (j.bearer) {
      fs.writeFileSync(path.join(dir, `${j.name}.token`), j.bearer, { mode: 0o600 });
      lines.push("    authorization:", `      credentials_file: ${JSON.stringify(path.join(dir, `${j.name}.token`))}`);
    }
    return lines.join("\n");
  });
  const config = path.join(dir, "prometheus.yml");
  fs.writeFileSync(config, `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n${scrapeConfigs.join("\n")}\n`);
  await run("promtool", ["check", "config", config]);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const child: ChildProcess = spawn("prometheus", [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await waitForHttp(`${url}/-/ready`, 30_000);
  } catch (e) {
    child.kill("SIGKILL");
    throw new Error(`prometheus did not become ready: ${e instanceof Error ? e.message : String(e)}\n${output.slice(-2000)}`);
  }

  const query = async (promql: string) => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== "success" || !body.data) throw new Error(`query ${promql} failed: ${body.error ?? res.status}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  return {
    url,
    query,
    async waitFor(promql, ok, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      let last: number[] = [];
      for (;;) {
        last = (await query(promql)).map((r) => r.value);
        if (ok(last)) return last;
        if (Date.now() > until) throw new Error(`${promql}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    async stop() {
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `promtool check metrics` on an exposition: its complaints, or "" when it passes. */
export async function promtoolCheckMetrics(exposition: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("exit", (code) => resolve({ ok: code === 0, output }));
    child.stdin.end(exposition);
  });
}
