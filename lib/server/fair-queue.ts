import type net from "node:net";
import { log } from "../log";

/**
 * Requests started in the order they arrived, a bounded slice of work per
 * event-loop iteration, so a burst of new connections is accepted within
 * milliseconds instead of seconds.
 *
 * Why: since libuv 1.45 (Node 20; libuv#3696) the event loop accepts one
 * connection per iteration, and an iteration runs the handler of every
 * keep-alive request that is ready. With 200 busy connections at ~0.3 ms each,
 * an iteration lasts ~60 ms and the k-th connection waiting in the kernel's
 * accept queue waits k iterations: measured at 200 connections, the last ones
 * were accepted 18–36 s after they connected while the open ones were served
 * every iteration (a cluster of nodes rolling out a release opens exactly such
 * a burst). Handlers are therefore not run where the request is parsed but
 * queued, and each iteration starts as many as fit in BUDGET_MS of work
 * (measured, with the promise continuations they run at once), then yields to
 * the loop: it turns hundreds of times a second, each turn accepts, and every
 * request waits in one FIFO, whichever connection it came on. While
 * connections are arriving (one was accepted since the last slice), slices are
 * shorter still (STORM_BUDGET_MS) so the accept queue drains first.
 *
 * A handler's later steps (upstream I/O, file reads, timers) run when their
 * events come, as before; only their start is queued. A request whose client
 * left while it waited is not started.
 */
export const BUDGET_MS = 2;
export const STORM_BUDGET_MS = 0.5;
const MAX_PER_SLICE = 1024;

export class FairQueue {
  private jobs: (() => void)[] = [];
  private head = 0;
  private armed = false;
  /** How many handlers the next slice starts (adapted to the budget, at least 1). */
  private perSlice = 8;
  private started = 0;
  private ran = 0;
  private arrivals = false;
  /** Slices run and handlers started, for the bench's report. */
  readonly stats = { slices: 0, started: 0, maxWaiting: 0 };

  constructor(
    private readonly budgetMs = BUDGET_MS,
    private readonly stormBudgetMs = STORM_BUDGET_MS,
  ) {}

  /** Notes new connections on `server`: while they arrive, slices are short. */
  watch(server: net.Server): void {
    server.on("connection", () => {
      this.arrivals = true;
    });
  }

  /** Requests waiting to start. */
  get waiting(): number {
    return this.jobs.length - this.head;
  }

  /** Starts `job` in its turn (at the latest in this iteration's check phase when nothing waits). */
  run(job: () => void): void {
    this.jobs.push(job);
    this.stats.maxWaiting = Math.max(this.stats.maxWaiting, this.waiting);
    this.arm();
  }

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    // Two immediates of the same check phase: the second runs after every
    // promise continuation the first one's handlers ran, so it measures them.
    setImmediate(this.slice);
    setImmediate(this.measure);
  }

  private readonly slice = (): void => {
    this.started = performance.now();
    const n = Math.min(this.perSlice, this.waiting);
    for (let i = 0; i < n; i++) {
      const job = this.jobs[this.head]!;
      this.jobs[this.head++] = noop; // released for GC; the array is compacted below
      try {
        job();
      } catch (e) {
        log.error("a request handler threw before its first await", { error: e });
      }
    }
    this.ran = n;
    this.stats.slices++;
    this.stats.started += n;
    if (this.head === this.jobs.length) {
      this.jobs = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.jobs.length) {
      this.jobs = this.jobs.slice(this.head);
      this.head = 0;
    }
  };

  private readonly measure = (): void => {
    this.armed = false;
    const spent = performance.now() - this.started;
    const budget = this.arrivals ? this.stormBudgetMs : this.budgetMs;
    this.arrivals = false;
    if (spent > budget) this.perSlice = Math.max(1, Math.floor((this.perSlice * budget) / spent));
    else if (this.ran === this.perSlice) this.perSlice = Math.min(MAX_PER_SLICE, this.perSlice + Math.max(1, this.perSlice >> 2));
    if (this.waiting > 0) this.arm();
  };
}

function noop(): void {}
