import { execFileSync } from "node:child_process";
import fs from "node:fs";

/** What the benches read about a process from /proc (Linux). */

/** Bytes a process read and wrote through read/write-family syscalls (sockets included): /proc/<pid>/io. */
export function io(pid: number): { read: number; written: number } {
  const text = fs.readFileSync(`/proc/${pid}/io`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, "m").exec(text)?.[1] ?? NaN);
  return { read: field("rchar"), written: field("wchar") };
}

const TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** CPU seconds (user + system) of a process, or with `children`, of its waited-for children (/proc/<pid>/stat). */
export function cpuSeconds(pid: number | "self", children = false): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after "(comm)": state is field 3; utime, stime are 14, 15; cutime, cstime 16, 17.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const at = (n: number) => Number(fields[n - 3]);
  return (children ? at(16) + at(17) : at(14) + at(15)) / TICKS;
}

/** A "<n> kB" field of /proc/<pid>/status (VmRSS, VmHWM…), in bytes. */
export function statusKb(pid: number, field: string): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${field}:`)) ?? "";
  return Number(/(\d+) kB/.exec(line)?.[1] ?? NaN) * 1024;
}

/**
 * Resets a process's peak RSS (VmHWM) to its current RSS (`5` into
 * /proc/<pid>/clear_refs, Linux ≥ 4.0), so the next peak is the one of what
 * follows; false when the kernel or permissions do not allow it.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}
