/**
 * Gantry's HTTP server exactly as lib/server/main.ts runs it (routing, health
 * probes, SIGTERM sequence), with a stub in place of Next's portal, which
 * needs `npm run build`, run as a child process by tests that need a process
 * of their own: one to send SIGTERM to (lib/server/shutdown.int.test.ts), one
 * with another DATABASE_URL (lib/server/health.int.test.ts).
 *
 * `startGantryServer(env)` spawns this file with `--serve`; the child takes its
 * environment from the test's, with `env` on top.
 */
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { freePort } from "./registries/ports";

const SERVE_FLAG = "--serve";
/** Also run Gantry's own registry (embedded distribution in a temp dir), as lib/server/main.ts does. */
const REGISTRY_FLAG = "--with-registry";

export interface GantryServerChild {
  port: number;
  child: ChildProcess;
  /** The child's stdout and stderr so far. */
  output(): string;
  /** Settles when the child exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

/** Starts the server on a free loopback port and resolves once it listens. */
export async function startGantryServer(env: Record<string, string>, timeoutMs = 60_000, opts: { registry?: boolean } = {}): Promise<GantryServerChild> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "--require", "./lib/ops/server-only-shim.cjs", "lib/testing/gantry-server.ts", SERVE_FLAG, ...(opts.registry ? [REGISTRY_FLAG] : [])], {
    cwd: process.cwd(),
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", GANTRY_COUNT_DB_QUERIES: "0", GANTRY_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`the server did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = setInterval(() => output.includes("listening on") && done(), 50);
    const done = (e?: Error) => {
      clearInterval(check);
      clearTimeout(timer);
      if (e) reject(e);
      else resolve();
    };
    void exited.then(({ code, signal }) => done(new Error(`the server exited (${code ?? signal}) before listening:\n${output}`)));
  });
  return { port, child, output: () => output, exited };
}

/** Kills every server child still running (for afterAll). */
export function stopGantryServers(): void {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

/** GET on a fresh connection each time (no keep-alive), as a load balancer's probe. */
export function getFrom(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

async function serve(): Promise<void> {
  const { env } = await import("../env");
  const { createGantryHttpServer } = await import("../server/http-server");
  const { installSignalHandlers } = await import("../server/signals");
  const config = env();
  const registry = process.argv.includes(REGISTRY_FLAG) ? await startRegistry(config) : null;
  const gantry = createGantryHttpServer(
    config,
    (_req, res) => {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("no portal in this test server\n");
    },
    undefined,
    registry,
  );
  installSignalHandlers(gantry, config.shutdownGraceSeconds * 1000, undefined, async () => {
    await registry?.stop();
  });
  gantry.server.listen(config.port, config.host, () => console.log(`Gantry (test server) listening on http://${config.host}:${config.port}`));
}

/** The registry as lib/server/main.ts starts it, with its storage in a temp dir removed on exit. */
async function startRegistry(config: import("../env").Env) {
  const fs = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  const { startHostedRegistry } = await import("../hosted-registry/service");
  const { realmFor } = await import("../http/public-urls");
  const { requestDomain } = await import("../domains/served");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-server-registry-"));
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  const started = await startHostedRegistry({ dir, publicHost: config.registryDomain, secret: config.authSecret, realmFor: (req) => realmFor(req, config, "registry", requestDomain(req)?.name) });
  if (!started.registry) throw new Error(started.reason);
  return started.registry;
}

if (process.argv.includes(SERVE_FLAG)) void serve();
