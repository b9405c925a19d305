import { execFile } from "node:child_process";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { env } from "@/lib/env";
import { currentRequest } from "@/lib/observe/request-context";
import { createGantryHttpServer, type GantryHttpServer } from "@/lib/server/http-server";

/**
 * Requests start from one FIFO (lib/server/fair-queue.ts): a slice of the
 * queue runs many requests' handlers from one setImmediate, which Node runs
 * in the context of whichever request armed it. Each handler must still see
 * its own request: the portal stub answers with the id and face its code
 * sees, after an await, and the test compares them with X-Request-Id.
 *
 * The requests come from another process, and the server's loop is held for
 * a moment on the first one, so the others arrive together and start from
 * one slice (asserted from the queue's counters): what the test is about.
 */
let gantry: GantryHttpServer;
let port = 0;

beforeAll(async () => {
  gantry = createGantryHttpServer({ ...env(), metrics: null }, async (req, res) => {
    await new Promise((r) => setImmediate(r));
    const seen = currentRequest();
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ id: seen?.id ?? null, face: seen?.face ?? null, header: req.headers["x-request-id"] }));
  });
  let held = false;
  gantry.server.on("request", () => {
    if (held) return;
    held = true;
    // Blocks this process's loop (not the client's): the other requests queue up in the kernel meanwhile.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
  });
  await new Promise<void>((r) => gantry.server.listen(0, "127.0.0.1", r));
  port = (gantry.server.address() as AddressInfo).port;
});
afterAll(() => {
  gantry.server.closeAllConnections();
  gantry.server.close();
});

/** 40 concurrent GETs from a child process: each answer's X-Request-Id and body, in order. */
const CLIENT = `
const http = require("node:http");
const [port, ...paths] = process.argv.slice(1);
Promise.all(paths.map((path) => new Promise((resolve, reject) => {
  http.get({ host: "127.0.0.1", port: Number(port), path, agent: false }, (res) => {
    let text = "";
    res.on("data", (c) => (text += c));
    res.on("end", () => resolve({ header: String(res.headers["x-request-id"]), body: JSON.parse(text) }));
  }).on("error", reject);
}))).then((answers) => process.stdout.write(JSON.stringify(answers)));
`;

describe("the request context through the request queue", () => {
  it("gives each of 40 concurrent requests its own id and face, also after an await", async () => {
    const paths = Array.from({ length: 40 }, (_, i) => (i % 2 ? `/t/acme/page-${i}` : `/api/v1/team?i=${i}`));
    const before = { ...gantry.queue.stats };
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", CLIENT, String(port), ...paths]);
    const answers = JSON.parse(stdout) as { header: string; body: { id: string | null; face: string | null; header: string } }[];
    // Some slice started several requests (else the test proves nothing).
    expect(gantry.queue.stats.started - before.started).toBe(40);
    expect(gantry.queue.stats.slices - before.slices).toBeLessThan(40);
    for (const [i, a] of answers.entries()) {
      expect(a.body.id).toBe(a.header);
      expect(a.body.header).toBe(a.header); // what Next's handlers read from the request
      expect(a.body.face).toBe(i % 2 ? "portal" : "api");
    }
    expect(new Set(answers.map((a) => a.header)).size).toBe(40);
  });
});
