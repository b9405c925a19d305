import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ResponseTooLargeError, RegistryNetworkError } from "@/lib/registry-client/errors";
import { DEFAULT_HTTP, headersForRedirect, hostPort, httpRequest, readBounded, watchThroughput, type HttpOptions } from "@/lib/registry-client/http";

// The log reads the environment (and would create a data dir): keep unit tests free of it.
vi.mock("@/lib/log", () => ({ log: { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } }));

/** httpRequest against small local servers: size caps, deadlines, redirects and the per-hop SSRF allowlist. */
const options: HttpOptions = { ...DEFAULT_HTTP, allowedPrivateHosts: ["127.0.0.1/32"], totalTimeoutMs: 1_000 };
let server: http.Server;
let port = 0;
let other: http.Server;
let otherPort = 0;
let otherRequests = 0;
const seen: { url: string; authorization?: string }[] = [];
let closedSockets = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? "", authorization: req.headers.authorization });
    req.socket.once("close", () => closedSockets++);
    const url = req.url ?? "";
    if (url === "/declared-huge") {
      res.writeHead(200, { "content-length": String(100 * 1024 * 1024) });
      res.write(Buffer.alloc(64 * 1024));
      return; // never finishes on its own
    }
    if (url === "/endless") {
      res.writeHead(200, { "content-type": "application/json" });
      const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024, 0x20)), 2);
      res.on("close", () => clearInterval(timer));
      return;
    }
    if (url === "/drip") {
      res.writeHead(200, { "content-type": "application/json" });
      const timer = setInterval(() => res.write(" "), 100);
      res.on("close", () => clearInterval(timer));
      return;
    }
    if (url === "/small") return void res.writeHead(200, { "content-length": "5" }).end("hello");
    if (url === "/to-same") return void res.writeHead(307, { location: "/small" }).end();
    if (url === "/to-other-port") return void res.writeHead(307, { location: `http://127.0.0.1:${otherPort}/blob` }).end();
    if (url === "/to-localhost") return void res.writeHead(307, { location: `http://localhost:${port}/small` }).end();
    res.writeHead(404).end();
  });
  other = http.createServer((_req, res) => {
    otherRequests++;
    res.writeHead(200).end("secret internal data");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
  otherPort = (other.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
  other.close();
});
afterEach(() => void seen.splice(0));

const url = (path: string) => new URL(`http://127.0.0.1:${port}${path}`);
const privateHost = () => `127.0.0.1:${port}`;

describe("bounded reads", () => {
  it("refuses a declared Content-Length over the limit before reading, and drops the socket", async () => {
    const before = closedSockets;
    const res = await httpRequest({ method: "GET", url: url("/declared-huge"), privateHost: privateHost() }, options);
    await expect(readBounded(res, 4 * 1024 * 1024, "a manifest", "reg")).rejects.toThrow(ResponseTooLargeError);
    await expect.poll(() => closedSockets).toBeGreaterThan(before);
  });

  it("cuts an endless body as soon as it passes the limit", async () => {
    const res = await httpRequest({ method: "GET", url: url("/endless"), privateHost: privateHost() }, { ...options, totalTimeoutMs: 10_000 });
    const err = await readBounded(res, 1024 * 1024, "a manifest", "reg").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResponseTooLargeError);
    expect(err).toMatchObject({ kind: "protocol", what: "a manifest", limitBytes: 1024 * 1024, message: "reg sent a manifest over 1 MiB; Gantry refused to read it." });
  });

  it("reads a small body whole", async () => {
    const res = await httpRequest({ method: "GET", url: url("/small"), privateHost: privateHost() }, options);
    expect((await readBounded(res, 5, "x", "reg")).toString()).toBe("hello");
  });
});

describe("overall deadline", () => {
  it("aborts a buffered request whose body drips, headers and body included", async () => {
    const started = Date.now();
    const res = await httpRequest({ method: "GET", url: url("/drip"), privateHost: privateHost() }, { ...options, totalTimeoutMs: 400 });
    await expect(readBounded(res, 1024 * 1024, "a manifest", "reg")).rejects.toMatchObject({ kind: "timeout" });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("stream mode has no overall deadline (the caller's floor applies)", async () => {
    const res = await httpRequest({ method: "GET", url: url("/drip"), privateHost: privateHost(), mode: "stream" }, { ...options, totalTimeoutMs: 100 });
    await new Promise((r) => setTimeout(r, 300));
    expect(res.body.destroyed).toBe(false);
    res.body.destroy();
  });

  it("watchThroughput calls onStall when a window moves fewer than minBytes", () => {
    vi.useFakeTimers();
    try {
      let bytes = 0;
      const onStall = vi.fn();
      const stop = watchThroughput(() => bytes, { windowMs: 1_000, minBytes: 100 }, onStall);
      bytes = 500;
      vi.advanceTimersByTime(1_000);
      expect(onStall).not.toHaveBeenCalled();
      bytes = 550; // one drip
      vi.advanceTimersByTime(1_000);
      expect(onStall).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(5_000);
      expect(onStall).toHaveBeenCalledTimes(1);
      stop();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("redirects", () => {
  it("keeps Authorization on a same-origin redirect", async () => {
    const res = await httpRequest({ method: "GET", url: url("/to-same"), headers: { authorization: "Basic x" }, privateHost: privateHost() }, options);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(seen.map((s) => s.authorization)).toEqual(["Basic x", "Basic x"]);
  });

  it("drops Authorization when the scheme, host or port changes", () => {
    const h = { authorization: "Bearer t", accept: "x" };
    const from = new URL("https://reg.example.com/v2/a");
    expect(headersForRedirect(from, new URL("https://reg.example.com:443/b"), h)).toEqual(h);
    expect(headersForRedirect(from, new URL("http://reg.example.com/b"), h)).toEqual({ accept: "x" });
    expect(headersForRedirect(from, new URL("https://reg.example.com:8443/b"), h)).toEqual({ accept: "x" });
    expect(headersForRedirect(from, new URL("https://cdn.example.com/b"), h)).toEqual({ accept: "x" });
    expect(headersForRedirect(new URL("http://h:80/a"), new URL("https://h:80/a"), { Authorization: "x" })).toEqual({});
    expect(hostPort(new URL("https://A.example"))).toBe("a.example:443");
  });

  it("gives the private allowance only to the registry's own host:port: a redirect to another loopback port is refused before connecting", async () => {
    const err = await httpRequest({ method: "GET", url: url("/to-other-port"), headers: { authorization: "Basic x" }, privateHost: privateHost() }, options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryNetworkError);
    expect(err).toMatchObject({ kind: "blocked" });
    expect((err as Error).message).toMatch(/redirected to 127\.0\.0\.1:\d+, which is blocked by the SSRF guard/);
    expect(otherRequests).toBe(0);
  });

  it("a redirect to another name of the same address is another host: refused, and the message has no resolved address", async () => {
    const err = await httpRequest({ method: "GET", url: url("/to-localhost"), privateHost: privateHost() }, options).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "blocked" });
    expect(String((err as Error).message)).not.toMatch(/127\.0\.0\.1(?!:\d)|::1/);
  });

  it("a blocked name never shows the address it resolved to", async () => {
    const err = await httpRequest({ method: "GET", url: new URL(`http://localhost:${port}/small`), privateHost: null }, options).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "blocked", message: expect.stringMatching(/localhost:\d+ is blocked by the SSRF guard/) });
    expect((err as Error).message).not.toMatch(/127\.0\.0\.1|::1|loopback/);
    // The details stay on the cause, for the log.
    expect((err as { cause?: { address?: string } }).cause).toMatchObject({ address: expect.stringMatching(/^(127\.0\.0\.1|::1)$/) });
  });
});
