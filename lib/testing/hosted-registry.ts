import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { startHostedRegistry, type HostedRegistry } from "@/lib/hosted-registry/service";

/**
 * Gantry's own registry for integration tests: the real handler on node:http,
 * in front of a real distribution started as the server starts it (embedded,
 * in a temp directory). Clients (skopeo, containerd, fetch) talk to `host`.
 */
export interface TestHostedRegistry {
  registry: HostedRegistry;
  server: http.Server;
  /** 127.0.0.1:<port> */
  host: string;
  dir: string;
  stop(): Promise<void>;
}

/** publicHost: the registry's public host as configured (release images name it); default: where it listens. */
export async function startTestHostedRegistry(opts: { publicHost?: string } = {}): Promise<TestHostedRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-hosted-"));
  // The registry needs the server's address (its public host), so it is attached once listening.
  const attached: { registry?: HostedRegistry } = {};
  const server = http.createServer((req, res) => {
    if (attached.registry) void attached.registry.handle(req, res, req.socket.remoteAddress ?? null);
    else res.writeHead(503).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const started = await startHostedRegistry({
    dir,
    publicHost: opts.publicHost ?? host,
    secret: "test-secret-of-at-least-32-characters!!",
    realmFor: (req) => ({ realm: `http://${req.headers.host ?? host}/v2/token`, service: host }),
  });
  if (!started.registry) throw new Error(started.reason);
  const running = started.registry;
  attached.registry = running;
  return {
    registry: running,
    server,
    host,
    dir,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await running.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
