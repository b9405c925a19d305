/**
 * What one log line costs: Gantry's logger (lib/log.ts) as the baseline, pino
 * beside it in the same run (npm run bench:log).
 *
 * Every variant masks the same way (lib/log.ts redact/redactString: that cost
 * stays Gantry's whatever writes the line, pino's path-based redaction cannot
 * mask values by their shape) and carries the request id; they differ in how
 * the line is serialized and written:
 * - `masking only`: redact + redactString + JSON.stringify, written nowhere (the floor);
 * - `lib/log.ts`: Gantry's `log.info`/`log.error`, inside a request's context
 *   (the baseline: the request id from AsyncLocalStorage, the level check,
 *   the backlog bound, process.stderr);
 * - `pino async`: pino with the same masking in its log formatter and the id from
 *   a mixin, sonic-boom buffering lines (minLength 4 KiB) and bounded (maxLength);
 * - `pino sync`: the same, sonic-boom writing each line at once.
 *
 * stderr goes to a pipe read by `cat > /dev/null` (a container runtime reading
 * the log), then to /dev/null. Two lines: a short info line with four fields,
 * and an error line with an Error (its stack masked). Rounds interleave the
 * variants; each keeps its best round (the least disturbed by other load).
 */
import { spawn } from "node:child_process";
import os from "node:os";
import pino from "pino";

const LINES = Number(process.env.BENCH_LOG_LINES ?? 5_000);
const ROUNDS = Number(process.env.BENCH_LOG_ROUNDS ?? 5);
const BASELINE = "lib/log.ts";
type Result = Record<string, { infoNs: number; errorNs: number }>;

async function child(): Promise<void> {
  process.env.GANTRY_LOG_LEVEL = "info";
  const { log, redact, redactString } = await import("../../log");
  const { withRequest, currentRequestId } = await import("../../observe/request-context");
  const fields = { reason: "busy", teamId: "cmhx2k9v00000a1b2c3d4e5f6", digest: `sha256:${"ab".repeat(32)}`, fills: 64 };
  const error = { registryId: "cmhx2k9v00000a1b2c3d4e5f7", error: new Error("connect ECONNREFUSED 10.0.0.5:5000") };
  const options = (): pino.LoggerOptions => ({
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => ({ requestId: currentRequestId() }),
    formatters: { level: (label) => ({ level: label }), log: (f) => redact(f) as Record<string, unknown> },
  });
  const asyncDest = pino.destination({ dest: 2, sync: false, minLength: 4096, maxLength: 16 * 1024 * 1024 });
  const async = pino(options(), asyncDest);
  const sync = pino(options(), pino.destination({ dest: 2, sync: true }));
  let sinkHole = 0;
  const variants: [string, (level: "info" | "error", msg: string, f: Record<string, unknown>) => void][] = [
    ["masking only", (_level, msg, f) => void (sinkHole += JSON.stringify(redact(f)).length + redactString(msg).length)],
    [BASELINE, (level, msg, f) => log[level](msg, f)],
    ["pino async", (level, msg, f) => async[level](f, redactString(msg))],
    ["pino sync", (level, msg, f) => sync[level](f, redactString(msg))],
  ];
  const results: Result = {};
  await withRequest({ id: "0b6f1c2e-8f1a-4c5e-9a37-2d0c5e6f7a81", face: "proxy" }, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, write] of variants) {
        const time = (level: "info" | "error", msg: string, f: Record<string, unknown>) => {
          const t0 = process.hrtime.bigint();
          for (let i = 0; i < LINES; i++) write(level, msg, f);
          return Number(process.hrtime.bigint() - t0) / LINES;
        };
        const infoNs = time("info", "blob streamed through uncached", fields);
        const errorNs = time("error", "upstream request failed", error);
        const best = results[name];
        // Round 0 warms up.
        if (round > 0) results[name] = { infoNs: Math.round(Math.min(infoNs, best?.infoNs ?? Infinity)), errorNs: Math.round(Math.min(errorNs, best?.errorNs ?? Infinity)) };
        await new Promise((r) => setTimeout(r, 50)); // buffers drain between variants
      }
    }
  });
  asyncDest.flushSync();
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

function runChild(sink: "pipe" | "/dev/null"): Promise<Result> {
  return new Promise((resolve, reject) => {
    const cmd = `exec ${process.execPath} --import tsx --require ./lib/ops/server-only-shim.cjs lib/ops/bench/log.ts --child ${sink === "pipe" ? "2> >(cat > /dev/null)" : "2>/dev/null"}`;
    const c = spawn("bash", ["-c", cmd], { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    c.stdout.on("data", (d: Buffer) => (text += d.toString()));
    c.on("exit", (code) => (code === 0 ? resolve(JSON.parse(text.trim().split("\n").at(-1) ?? "{}") as Result) : reject(new Error(`bench child exited ${code}`))));
  });
}

async function parent(): Promise<void> {
  console.log(`bench:log — ${new Date().toISOString()}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}; ${LINES} lines per variant and round, best of ${ROUNDS - 1} rounds after a warm-up (BENCH_LOG_LINES, BENCH_LOG_ROUNDS)`);
  for (const sink of ["pipe", "/dev/null"] as const) {
    const results = await runChild(sink);
    const base = results[BASELINE];
    console.log(`\nstderr → ${sink === "pipe" ? "a pipe (cat > /dev/null)" : "/dev/null"}: ns per line, and × the baseline (${BASELINE})`);
    for (const [name, r] of Object.entries(results)) {
      const ratio = (ns: number, b: number | undefined) => (b ? `×${(ns / b).toFixed(2)}` : "");
      console.log(`  ${name.padEnd(12)} info ${String(r.infoNs).padStart(7)} ns ${ratio(r.infoNs, base?.infoNs).padStart(6)}   error with stack ${String(r.errorNs).padStart(7)} ns ${ratio(r.errorNs, base?.errorNs).padStart(6)}`);
    }
  }
}

if (process.argv.includes("--child")) void child();
else void parent();
