import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { clientGone } from "./exchange";

/** Just what clientGone reads of a response: its "close" event and whether it was sent in full. */
function response(): ServerResponse & { finish(): void; close(): void } {
  const res = new EventEmitter() as EventEmitter & { writableFinished: boolean; finish(): void; close(): void };
  res.writableFinished = false;
  res.finish = () => void (res.writableFinished = true);
  res.close = () => void res.emit("close");
  return res as unknown as ServerResponse & { finish(): void; close(): void };
}

describe("clientGone: the signal that stops upstream work when the client leaves", () => {
  it("aborts when the connection closes before the response is complete", () => {
    const res = response();
    const gone = clientGone(res);
    const signal = gone.signal;
    res.close();
    expect(signal.aborted).toBe(true);
  });

  it("is aborted already when first asked for after the client left", () => {
    const res = response();
    const gone = clientGone(res);
    res.close();
    expect(gone.signal.aborted).toBe(true);
  });

  it("does not abort after a response sent in full (no DOMException per request)", () => {
    const res = response();
    const gone = clientGone(res);
    const signal = gone.signal;
    res.finish();
    res.close();
    expect(signal.aborted).toBe(false);
  });

  it("is one signal per request", () => {
    const gone = clientGone(response());
    expect(gone.signal).toBe(gone.signal);
  });
});
