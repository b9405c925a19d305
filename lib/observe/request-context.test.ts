import { afterEach, describe, expect, it, vi } from "vitest";

vi.mock("@/lib/env", () => ({ env: () => ({ logLevel: "debug" }) }));

const { log } = await import("@/lib/log");
const { outsideRequest, withRequest } = await import("@/lib/observe/request-context");

/**
 * lib/log.ts writes the request's id on every line the request causes,
 * however it got there: directly, after awaits, from timers and callbacks it
 * started; and not on lines of work that belongs to no request.
 */
describe("request ids on log lines", () => {
  const lines: Record<string, unknown>[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    lines.length = 0;
  });
  const capture = () =>
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      return true;
    });
  const ctx = { id: "3f0e2a4c-1b7d-4e8f-9a0b-5c6d7e8f9a0b", face: "proxy" as const };

  it("carries the id on lines written in the request, after awaits, and from its timers and callbacks", async () => {
    capture();
    let timerDone!: () => void;
    const timer = new Promise<void>((r) => (timerDone = r));
    await withRequest(ctx, async () => {
      log.info("direct");
      await new Promise((r) => setImmediate(r));
      log.warn("after an await");
      setTimeout(() => {
        log.error("from a timer the request started");
        timerDone();
      }, 5);
      process.nextTick(() => log.debug("from a callback"));
    });
    await timer;
    log.info("outside");
    expect(lines.map((l) => [l.msg, l.requestId])).toEqual([
      ["direct", ctx.id],
      ["after an await", ctx.id],
      ["from a callback", ctx.id],
      ["from a timer the request started", ctx.id],
      ["outside", undefined],
    ]);
  });

  it("leaves work started outside the request (batch flushes) without an id", async () => {
    capture();
    // The timer is started inside the request, as lib/proxy/pull-log.ts starts its flush.
    const flush = () =>
      setTimeout(() => {
        log.info("flush");
        flushed();
      }, 1);
    let flushed!: () => void;
    await withRequest(ctx, () => new Promise<void>((resolve) => ((flushed = resolve), outsideRequest(flush))));
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toHaveProperty("requestId");
  });

  it("keeps two requests' lines apart when they interleave", async () => {
    capture();
    const other = { id: "other-request", face: "api" as const };
    const step = (id: string) => new Promise((r) => setTimeout(r, id === ctx.id ? 6 : 2));
    await Promise.all([
      withRequest(ctx, async () => {
        await step(ctx.id);
        log.info("a");
      }),
      withRequest(other, async () => {
        await step(other.id);
        log.info("b");
      }),
    ]);
    expect(lines.map((l) => [l.msg, l.requestId])).toEqual([
      ["b", "other-request"],
      ["a", ctx.id],
    ]);
  });

  it("cannot be replaced by a field of the same name", () => {
    capture();
    withRequest(ctx, () => log.info("x", { requestId: "forged" }));
    expect(lines[0]?.requestId).toBe(ctx.id);
  });
});
