/**
 * Runs `job` once `firstAfterMs` after start and then every `everyMs`, never
 * twice at once in this process (a run still going when the next is due is
 * skipped, not doubled). `done` sees each result; a failure is handed to
 * `failed`, never thrown. Timers are unref'd: they do not keep the process up.
 * Returns a stop function.
 */
export function startPeriodic<T>(
  job: () => Promise<T>,
  opts: { everyMs: number; firstAfterMs: number; done?: (result: T) => void; failed: (error: unknown) => void },
): () => void {
  let running = false;
  const run = () => {
    if (running) return;
    running = true;
    job()
      .then((r) => opts.done?.(r))
      .catch(opts.failed)
      .finally(() => {
        running = false;
      });
  };
  const first = setTimeout(run, opts.firstAfterMs).unref();
  const every = setInterval(run, opts.everyMs).unref();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
