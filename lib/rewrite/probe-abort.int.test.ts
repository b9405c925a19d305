import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeImages } from "./probe";

/** A preview whose browser went away stops probing: no new probe starts, running ones are cancelled. */
let server: http.Server;
let host = "";
let received = 0;
let open = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    received++;
    open++;
    res.on("close", () => open--);
    // A slow registry: every manifest answers 404 after 400 ms.
    setTimeout(() => res.writeHead(404, { "content-type": "application/json" }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}'), 400);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("probe cancellation", () => {
  it("stops after an abort: in-flight requests are cancelled and no new image is probed", async () => {
    const images = Array.from({ length: 40 }, (_, i) => `${host}/acme/img${i}:1`);
    const abort = new AbortController();
    let results = 0;
    const run = probeImages(images, {
      appSlug: "a",
      proxyDomain: "gantry.test",
      registryDomain: undefined,
      registries: [],
      allowedPrivateHosts: ["127.0.0.1/32"],
      schemeFor: () => "http",
      concurrency: 8,
      signal: abort.signal,
      onResult: () => {
        results++;
        if (results === 1) abort.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
    const atAbort = received;
    await new Promise((r) => setTimeout(r, 1500)); // without cancellation all 40 would be probed in ~2 s
    expect(received).toBe(atAbort);
    expect(received).toBeLessThanOrEqual(16);
    expect(open).toBe(0);
  });
});
