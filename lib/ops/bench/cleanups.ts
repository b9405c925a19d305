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
