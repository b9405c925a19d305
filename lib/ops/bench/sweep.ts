import os from "node:os";
import type { LoopStats } from "./gantry-process";
import { atLeast, atMost, check, printTable, type Verdict } from "./stats";
import { wrk, type WrkResult } from "./wrk";

/**
 * The connection sweep of bench:proxy (issue 18, "fair under load"): the same
 * manifest GET by digest, warm, against distribution serving it directly and
 * through Gantry (and, with SWEEP_BASELINE, through Gantry built from another
 * commit: before/after in one run), with wrk on one thread at 16, 64 and 200
 * connections. Each count runs `rounds` rounds of the variants in turn, so load
 * from anything else on the machine falls on all alike; each variant's run
 * with the median p99 is reported. After each Gantry run, its event-loop
 * delay, GC, CPU, time inside Gantry and accept spread are read
 * (proxy-server.ts): they tell a blocked loop from waiting outside Gantry.
 *
 * wrk's percentiles are corrected for coordinated omission: a response that
 * took longer than twice a connection's mean interval adds the samples a
 * steady client would have seen meanwhile. So a few multi-second answers
 * (connections waiting to be accepted) move p90 and p99 by seconds; that is
 * what these targets measure, as in the issue.
 *
 * Targets: at 200 connections Gantry's p99 < 250 ms with at least ×2 of
 * distribution's requests per second; no errors.
 */
export const SWEEP_CONNECTIONS = (process.env.SWEEP_CONNECTIONS ?? "16,64,200").split(",").map(Number);
export const P99_TARGET_MS = 250;
export const THROUGHPUT_TARGET = 2;

export interface SweepVariant {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** A Gantry process: its loop statistics since the last call (resets them). */
  loopStats?: () => Promise<LoopStats | null>;
}

export interface SweepRun {
  connections: number;
  /** Per variant (same order as given), one entry per round. */
  results: { wrk: WrkResult; loop: LoopStats | null; load: number }[][];
}

/**
 * `settle`: waits until the Gantrys are done with what the previous run left
 * them (each request is a pull record, written in batches after the run): a
 * variant that ran right after another Gantry otherwise shares the machine
 * and the database with that one's backlog. Without it, the same commit run
 * as two variants measured 1.4-1.8× apart, always against the later one.
 */
export async function runSweep(opts: { variants: SweepVariant[]; seconds: number; rounds: number; settle?: () => Promise<void> }): Promise<SweepRun[]> {
  const out: SweepRun[] = [];
  for (const connections of SWEEP_CONNECTIONS) {
    const run: SweepRun = { connections, results: opts.variants.map(() => []) };
    for (const v of opts.variants) await wrk(v.url, v.headers, { connections, seconds: 1, threads: 1 }); // warm-up (connections, JIT), not counted
    for (let i = 0; i < opts.rounds; i++) {
      const line: string[] = [];
      for (const [k, v] of opts.variants.entries()) {
        await opts.settle?.();
        await v.loopStats?.(); // resets: what follows is this run's alone
        const load = os.loadavg()[0]!;
        const w = await wrk(v.url, v.headers, { connections, seconds: opts.seconds, threads: 1 });
        const loop = (await v.loopStats?.()) ?? null;
        run.results[k]!.push({ wrk: w, loop, load });
        line.push(`${v.name} ${w.requestsPerSecond.toFixed(0)} req/s p99 ${ms(w.p99Latency)} max ${ms(w.maxLatency)}${loop ? ` (loop max ${ms(loop.eld.max)}, GC ${loop.gc.ms} ms in ${loop.gc.count} (${loop.gc.majorCount} major, ${loop.gc.majorMs} ms), CPU ${loop.cpu}, accepts over ${ms(loop.acceptSpreadMs)})` : ""}`);
      }
      console.log(`  c${connections} round ${i + 1}/${opts.rounds}, load ${os.loadavg()[0]!.toFixed(2)}: ${line.join(" · ")}`);
    }
    out.push(run);
  }
  return out;
}

/** Until `count` (e.g. the pull records both Gantrys write) has not moved for 600 ms; at most 60 s. */
export async function countSettled(count: () => Promise<number>): Promise<void> {
  const until = Date.now() + 60_000;
  for (let last = -1, still = 0; Date.now() < until && still < 2; ) {
    const n = await count();
    still = n === last ? still + 1 : 0;
    last = n;
    await new Promise((r) => setTimeout(r, 300));
  }
}

export function ms(v: number): string {
  if (!Number.isFinite(v)) return "—";
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : v >= 10 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`;
}

/** The round with the median p99 (an actual run, so its figures belong together). */
function medianRound<T extends { wrk: WrkResult }>(rounds: T[]): T {
  const sorted = [...rounds].sort((a, b) => a.wrk.p99Latency - b.wrk.p99Latency);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Prints the sweep; the first variant is the reference (distribution), the last is the one judged (Gantry). */
export function printSweep(runs: SweepRun[], variants: SweepVariant[], opts: { seconds: number; rounds: number }): Verdict[] {
  console.log(`\nconnection sweep: manifest GET by digest, warm; wrk -t1 -d${opts.seconds}s --latency (percentiles corrected for coordinated omission), ${opts.rounds} round(s) per count, the median round by p99`);
  const rows: string[][] = [["connections", "variant", "req/s", "p50", "p90", "p99", "max", "errors", "× req/s", "× p99", "loop max", "GC ms", "CPU", "accepts over", "load"]];
  for (const r of runs) {
    const ref = medianRound(r.results[0]!).wrk;
    for (const [k, v] of variants.entries()) {
      const { wrk: w, loop, load } = medianRound(r.results[k]!);
      const vsRef = k === 0 ? ["", ""] : [`×${(w.requestsPerSecond / ref.requestsPerSecond).toFixed(2)}`, `×${(w.p99Latency / ref.p99Latency).toFixed(2)}`];
      const l = loop ? [ms(loop.eld.max), String(loop.gc.ms), loop.cpu.toFixed(2), ms(loop.acceptSpreadMs)] : ["", "", "", ""];
      rows.push([k === 0 ? String(r.connections) : "", v.name, w.requestsPerSecond.toFixed(0), ms(w.p50Latency), ms(w.p90Latency), ms(w.p99Latency), ms(w.maxLatency), String(w.errors), ...vsRef, ...l, load.toFixed(2)]);
    }
  }
  printTable(rows);
  const judged = variants.length - 1;
  for (const r of runs) {
    const all = r.results[judged]!.map((x) => `p99 ${ms(x.wrk.p99Latency)} ${x.wrk.requestsPerSecond.toFixed(0)} req/s`).join(" · ");
    console.log(`  c${r.connections} every ${variants[judged]!.name} round: ${all}`);
  }
  const top = runs.find((r) => r.connections === Math.max(...SWEEP_CONNECTIONS));
  if (!top) return [];
  const g = medianRound(top.results[judged]!).wrk;
  const d = medianRound(top.results[0]!).wrk;
  return [
    atMost(`sweep c${top.connections}: ${variants[judged]!.name} p99 < ${P99_TARGET_MS} ms`, g.p99Latency, P99_TARGET_MS, " ms", 1),
    atLeast(`sweep c${top.connections}: ${variants[judged]!.name} ≥ ×${THROUGHPUT_TARGET} ${variants[0]!.name} req/s`, g.requestsPerSecond / d.requestsPerSecond, THROUGHPUT_TARGET, "×"),
    check(
      "sweep: no errors",
      runs.every((r) => r.results.every((v) => v.every((x) => x.wrk.errors === 0 && x.wrk.requests > 0))),
      runs.map((r) => `c${r.connections}: ${r.results.map((v) => v.reduce((a, x) => a + x.wrk.errors, 0)).join("/")}`).join(", "),
    ),
  ];
}
