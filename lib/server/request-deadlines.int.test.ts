import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "@/lib/api-tokens/tokens";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { parseEnv } from "@/lib/env";
import { startHostedRegistry, type HostedRegistry } from "@/lib/hosted-registry/service";
import { teamContextForUser } from "@/lib/teams/access";
import { freePort } from "@/lib/testing/registries/ports";
import { createGantryHttpServer, type GantryHttpServer } from "./http-server";

/**
 * Request deadlines on Gantry's real server (lib/server/http-server.ts) with
 * its real registry in front of a real distribution, the timeout shortened by
 * configuration (GANTRY_REQUEST_TIMEOUT_SECONDS=2, a 1 s / 4 KiB stream floor):
 * a blob upload that keeps moving outlasts the timeout and is accepted; one
 * that stalls is cut by the floor; a portal request must still arrive whole
 * within the timeout; headers within theirs.
 */
const TIMEOUT_S = 2;
let gantry: GantryHttpServer;
let registry: HostedRegistry;
let registryPort = 0;
let portalPort = 0;
let token = "";
let dir = "";
const slug = `deadlines-${Date.now().toString(36)}`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-deadlines-"));
  registryPort = await freePort();
  portalPort = await freePort();
  const config = parseEnv(
    {
      ...process.env,
      GANTRY_DATA_DIR: dir,
      PORT: String(portalPort),
      GANTRY_REGISTRY_URL: undefined,
      GANTRY_REGISTRY_PORT: String(registryPort),
      GANTRY_REQUEST_TIMEOUT_SECONDS: String(TIMEOUT_S),
      GANTRY_HEADERS_TIMEOUT_SECONDS: "1",
      GANTRY_STREAM_FLOOR_SECONDS: "1",
      GANTRY_STREAM_FLOOR_BYTES: "4KiB",
    },
    () => undefined,
  );
  const started = await startHostedRegistry({
    dir: path.join(dir, "registry"),
    publicHost: `127.0.0.1:${registryPort}`,
    secret: "test-secret-of-at-least-32-characters!!",
    realmFor: () => ({ realm: `http://127.0.0.1:${registryPort}/v2/token`, service: `127.0.0.1:${registryPort}` }),
  });
  if (!started.registry) throw new Error(started.reason);
  registry = started.registry;
  // The portal stand-in reads the whole body, then says how much it got (Next does the same with an action's form).
  const portal = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let n = 0;
    req.on("data", (c: Buffer) => (n += c.length));
    req.on("end", () => res.writeHead(200, { "content-type": "text/plain" }).end(String(n)));
  };
  gantry = createGantryHttpServer(config, portal, undefined, registry);
  await new Promise<void>((r) => gantry.server.listen(portalPort, "127.0.0.1", r));
  await new Promise<void>((r) => gantry.registryServer!.listen(registryPort, "127.0.0.1", r));

  const { user, team } = await signUp({ email: `deadlines-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Deadlines" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Deadlines", slug });
  token = (await createApiToken(ctx, { name: "push", role: "admin" })).token;
});

afterAll(async () => {
  gantry?.server.closeAllConnections();
  gantry?.registryServer?.closeAllConnections();
  await new Promise<void>((r) => (gantry ? gantry.server.close(() => r()) : r()));
  await new Promise<void>((r) => (gantry?.registryServer ? gantry.registryServer.close(() => r()) : r()));
  await registry?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const auth = () => `Basic ${Buffer.from(`ci:${token}`).toString("base64")}`;

/** A request whose body is written in `chunks` pieces of `size` bytes, one every `everyMs`; resolves with the answer (or the socket's fate). */
function trickle(port: number, opts: { method: string; path: string; headers?: Record<string, string>; chunks: number; size: number; everyMs: number; stallAfter?: number }) {
  return new Promise<{ status: number | "closed"; body: string; ms: number }>((resolve) => {
    const started = Date.now();
    const req = http.request({ host: "127.0.0.1", port, method: opts.method, path: opts.path, headers: { "transfer-encoding": "chunked", ...opts.headers }, agent: false });
    let sent = 0;
    const timer = setInterval(() => {
      if (opts.stallAfter !== undefined && sent >= opts.stallAfter) return; // keeps the socket open, sends nothing
      if (sent >= opts.chunks) {
        clearInterval(timer);
        req.end();
        return;
      }
      sent++;
      req.write(Buffer.alloc(opts.size, 0x61));
    }, opts.everyMs);
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        clearInterval(timer);
        resolve({ status: res.statusCode ?? 0, body, ms: Date.now() - started });
      });
    });
    req.on("error", () => {
      clearInterval(timer);
      resolve({ status: "closed", body: "", ms: Date.now() - started });
    });
  });
}

async function startUpload(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${registryPort}/v2/${slug}/big/blobs/uploads/`, { method: "POST", headers: { authorization: auth(), "content-length": "0" } });
  expect(res.status).toBe(202);
  return res.headers.get("location")!;
}

describe("request deadlines", () => {
  it("accepts a blob upload that keeps moving for longer than the request timeout", async () => {
    const location = await startUpload();
    // 16 KiB every 200 ms for 4.4 s: twice the 2 s timeout, well above the 4 KiB/s floor.
    const r = await trickle(registryPort, { method: "PATCH", path: location, headers: { authorization: auth(), "content-type": "application/octet-stream" }, chunks: 22, size: 16 * 1024, everyMs: 200 });
    expect(r.ms).toBeGreaterThan(TIMEOUT_S * 1000 * 1.5);
    expect(r.status).toBe(202);
    const status = await fetch(`http://127.0.0.1:${registryPort}${location}`, { headers: { authorization: auth() } });
    expect(status.headers.get("range")).toBe(`0-${22 * 16 * 1024 - 1}`);
  });

  it("cuts an upload whose body stops moving (the stream floor), long before any overall timeout", async () => {
    const location = await startUpload();
    const r = await trickle(registryPort, { method: "PATCH", path: location, headers: { authorization: auth(), "content-type": "application/octet-stream" }, chunks: 100, size: 16 * 1024, everyMs: 100, stallAfter: 3 });
    expect(r.status === 408 || r.status === "closed").toBe(true);
    // The floor's window is 1 s: cut within a few windows of the stall, not at some distant deadline.
    expect(r.ms).toBeLessThan(5_000);
  });

  it("still gives a portal request GANTRY_REQUEST_TIMEOUT_SECONDS to arrive whole", async () => {
    const quick = await trickle(portalPort, { method: "POST", path: "/settings", chunks: 3, size: 1024, everyMs: 100 });
    expect(quick).toMatchObject({ status: 200, body: "3072" });
    const slow = await trickle(portalPort, { method: "POST", path: "/settings", chunks: 40, size: 1024, everyMs: 100 });
    expect(slow.status === 408 || slow.status === "closed").toBe(true);
    expect(slow.ms).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 100);
    expect(slow.ms).toBeLessThan(TIMEOUT_S * 1000 + 2_000);
  });

  it("closes a connection whose headers do not arrive within GANTRY_HEADERS_TIMEOUT_SECONDS", async () => {
    const started = Date.now();
    const closedAfter = await new Promise<number>((resolve) => {
      const socket = net.connect(portalPort, "127.0.0.1", () => socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n")); // never ends its headers
      socket.on("data", () => undefined);
      socket.on("close", () => resolve(Date.now() - started));
      socket.on("error", () => undefined);
    });
    expect(closedAfter).toBeLessThan(4_000);
  });
});
