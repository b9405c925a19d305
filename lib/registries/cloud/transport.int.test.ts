import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloudTransport } from "./transport";

/**
 * The agents every cloud SDK call goes through refuse non-public addresses by
 * name and by literal (Node skips an agent's lookup for an IP literal), unless
 * the host is an operator endpoint that is also in the private allowlist.
 */
let server: http.Server;
let port = 0;
let hits = 0;
beforeAll(async () => {
  server = http.createServer((_req, res) => {
    hits++;
    res.end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

function get(url: string, agent: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve(body));
    }).on("error", reject);
  });
}

describe("cloudTransport", () => {
  it("refuses loopback by IP literal and by name when the host is not the operator's", async () => {
    const t = cloudTransport({ operatorEndpoints: [], allowedPrivateHosts: ["127.0.0.1/32", "localhost"] });
    const before = hits;
    for (const url of [`http://127.0.0.1:${port}/token`, `http://localhost:${port}/token`, `http://[::ffff:127.0.0.1]:${port}/token`]) {
      await expect(get(url, t.agent(new URL(url)))).rejects.toThrow(/SSRF guard|non-public|not a public/i);
    }
    expect(hits).toBe(before);
  });

  it("lets an operator endpoint through when it is also in the private allowlist, and only that host", async () => {
    const endpoint = `http://127.0.0.1:${port}`;
    const allowed = cloudTransport({ operatorEndpoints: [endpoint], allowedPrivateHosts: ["127.0.0.1/32"] });
    expect(await get(`${endpoint}/token`, allowed.agent(new URL(endpoint)))).toBe("ok");
    const notListed = cloudTransport({ operatorEndpoints: [endpoint], allowedPrivateHosts: [] });
    await expect(get(`${endpoint}/token`, notListed.agent(new URL(endpoint)))).rejects.toThrow(/SSRF guard|non-public|not a public/i);
  });
});
