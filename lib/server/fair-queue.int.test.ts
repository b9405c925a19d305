import { execFile } from "node:child_process";
import type http from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { env } from "@/lib/env";
import { createGantryHttpServer } from "./http-server";

/**
 * A burst of new connections while open ones keep the server busy (a cluster
 * rolling out while others pull): the new connections must be accepted and
 * answered about as soon as the open ones, not after every open connection has
 * been served once per connection accepted before them. The load runs in a
 * child process (its own event loop, so its timings are not the server's);
 * each request costs the server WORK_MS of CPU (the portal stub spins).
 */
const WORK_MS = 2;
const OPEN = 32;
const BURST = 32;

const run = promisify(execFile);
let server: http.Server;
let port = 0;

beforeAll(async () => {
  const gantry = createGantryHttpServer(env(), (_req, res) => {
    const until = performance.now() + WORK_MS;
    while (performance.now() < until);
    res.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
    res.end("ok");
  });
  server = gantry.server;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/**
 * OPEN keep-alive connections request in a loop; after 1 s, BURST more connect
 * at once and each sends one request. Prints the open connections' latencies
 * over the burst and each new connection's time from connect() to its answer.
 */
const LOAD = `
const http = require("node:http");
const [port, open, burst] = process.argv.slice(1).map(Number);
const get = (agent) => new Promise((resolve, reject) => {
  const t0 = performance.now();
  http.get({ host: "127.0.0.1", port, path: "/load", agent }, (res) => { res.resume(); res.on("end", () => resolve(performance.now() - t0)); }).on("error", reject);
});
let stop = false, burstStarted = 0;
const during = [];
const loops = Array.from({ length: open }, async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  while (!stop) { const ms = await get(agent); if (burstStarted) during.push(ms); }
  agent.destroy();
});
setTimeout(async () => {
  burstStarted = performance.now();
  const first = await Promise.all(Array.from({ length: burst }, () => get(new http.Agent({ keepAlive: true, maxSockets: 1 }))));
  stop = true;
  await Promise.all(loops);
  during.sort((a, b) => a - b);
  console.log(JSON.stringify({ openMedianMs: during[during.length >> 1], burstMaxMs: Math.max(...first) }));
  process.exit(0);
}, 1000);
`;

describe("the request queue under load", () => {
  it(`${BURST} connections opened while ${OPEN} others are busy are answered about as soon as those`, async () => {
    const { stdout } = await run(process.execPath, ["-e", LOAD, String(port), String(OPEN), String(BURST)], { timeout: 120_000 });
    const { openMedianMs, burstMaxMs } = JSON.parse(stdout) as { openMedianMs: number; burstMaxMs: number };
    console.log(`[fair-queue] open connections: median ${openMedianMs.toFixed(0)} ms per request during the burst; the last of ${BURST} new connections answered ${burstMaxMs.toFixed(0)} ms after connecting`);
    // Accepting one connection per event-loop turn, each turn serving every open
    // connection, the last new one waits ~BURST turns: ~BURST/2 × the open ones' latency.
    expect(burstMaxMs).toBeLessThan(8 * openMedianMs);
  });
});
