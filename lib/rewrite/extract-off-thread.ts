import path from "node:path";
import { Worker } from "node:worker_threads";
import { ManifestError, type ImageOccurrence, type ManifestFile, type WorkloadRef } from "./extract";

/**
 * extractImages in a worker thread with a deadline and a heap cap. The yaml
 * library is not linear on hostile input (measured on 2 cores: 512 KiB of
 * nested `[` 6.9 s, a 512 KiB flow sequence 3.7 s, 2 MiB of them tens of
 * seconds), and on the main thread that would stall every tenant.
 * At most MAX_WORKERS parses run at once (the rest wait their turn); idle
 * workers are kept for the next preview, and a worker past its deadline is
 * terminated and replaced.
 */
export const PARSE_DEADLINE_MS = 10_000;
const MAX_WORKERS = 2;
const WORKER = path.join(process.cwd(), "lib", "rewrite", "extract-worker.cjs");

type Reply =
  | { id: number; ok: true; result: { occurrences: ImageOccurrence[]; workloads: WorkloadRef[] } }
  | { id: number; ok: false; manifest?: { message: string; file: string; document: number | undefined; line: number | undefined; code: ManifestError["code"] }; message?: string };

const idle: Worker[] = [];
let busy = 0;
const waiting: (() => void)[] = [];
let nextId = 0;

async function acquire(): Promise<Worker> {
  while (busy >= MAX_WORKERS) await new Promise<void>((r) => waiting.push(r));
  busy++;
  const reused = idle.pop();
  if (reused) return reused;
  // Loaded from disk at run time, not bundled (the worker loads extract.ts itself through
  // tsx): constructed indirectly so Next's bundler does not rewrite it as a bundled worker.
  const w: Worker = Reflect.construct(Worker, [WORKER, { resourceLimits: { maxOldGenerationSizeMb: 512 } }]);
  w.unref(); // an idle parser never keeps the process alive
  return w;
}

function release(worker: Worker, healthy: boolean) {
  busy--;
  if (healthy && idle.length < MAX_WORKERS) idle.push(worker);
  else void worker.terminate();
  waiting.shift()?.();
}

export async function extractImagesOffThread(files: ManifestFile[], options: { deadlineMs?: number; signal?: AbortSignal } = {}) {
  options.signal?.throwIfAborted();
  const worker = await acquire();
  const id = nextId++;
  const deadline = options.deadlineMs ?? PARSE_DEADLINE_MS;
  let healthy = false;
  try {
    const reply = await new Promise<Reply>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        worker.off("message", onMessage);
        worker.off("error", onError);
      };
      const onMessage = (m: Reply) => {
        if (m.id !== id) return;
        cleanup();
        healthy = true;
        resolve(m);
      };
      const onError = (e: Error) => {
        cleanup();
        reject(/heap|memory/i.test(e.message) ? new ManifestError("The manifests need too much memory to parse.", "", undefined, undefined, "TOO_COMPLEX") : e);
      };
      const onAbort = () => {
        cleanup();
        reject(options.signal?.reason instanceof Error ? options.signal.reason : new Error("aborted"));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new ManifestError(`The manifests took over ${deadline / 1000} s to parse: split them, or remove deeply nested or very long flow collections ([…], {…}).`, "", undefined, undefined, "TOO_COMPLEX"));
      }, deadline);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.postMessage({ id, files });
    });
    if (reply.ok) return reply.result;
    if (reply.manifest) {
      const m = reply.manifest;
      throw new ManifestError(m.message, m.file, m.document, m.line, m.code);
    }
    throw new Error(`Manifest extraction failed: ${reply.message ?? "unknown error"}`);
  } finally {
    // A worker that missed its deadline (or was abandoned) is still parsing: terminate it.
    release(worker, healthy);
  }
}
