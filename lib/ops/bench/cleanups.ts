import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Synchronous clean-ups for a bench, run in reverse order once, on any exit
 * (normal, error, SIGINT/SIGTERM). `atExit(fn)` registers one.
 */
const cleanups: (() => void)[] = [];
let installed = false;
let cleanedUp = false;

function cleanUp() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const c of cleanups.reverse()) {
    try {
      c();
    } catch (e) {
      console.error("clean-up step failed:", e);
    }
  }
}

export function atExit(fn: () => void): void {
  if (!installed) {
    installed = true;
    process.on("exit", cleanUp);
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.on(signal, () => {
        console.error(`\n${signal}: cleaning up`);
        process.exit(130);
      });
    }
  }
  cleanups.push(fn);
}

/**
 * A bench's scratch directories, removed on exit: `scratch` in the temp dir,
 * and `fast` on /dev/shm when it exists and `disk` is false (else `scratch`),
 * so storage and copies do not put disk write-back into the figures.
 */
export function scratchDirs(name: string, disk: boolean): { scratch: string; fast: string } {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `gantry-bench-${name}-`));
  const fast = !disk && fs.existsSync("/dev/shm") ? fs.mkdtempSync(`/dev/shm/gantry-bench-${name}-`) : scratch;
  atExit(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
    if (fast !== scratch) fs.rmSync(fast, { recursive: true, force: true });
  });
  return { scratch, fast };
}
