import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, waitForHttp } from "./ports";
import { startTokenServer, type TokenServer } from "./token-server";

/**
 * Real CNCF distribution registries (Debian `docker-registry`) on free loopback
 * ports, for integration tests, e2e tests and benchmarks:
 *
 *   const reg = await startRegistry({ auth: "htpasswd", users: { alice: "pw" } });
 *   afterAll(() => stopAll());   // stops every registry, even after a failed test
 *
 * Each registry logs every request as JSON; `requests()` returns them parsed,
 * so tests can count what a client really sent upstream.
 */
/**
 * Where the registry listens. By default a free port on 127.0.0.1 of this
 * host; benchmarks can put it in a network namespace they created (`ip netns
 * exec NS docker-registry …`) on that namespace's address, so it is reached
 * over a (shaped) veth link like a remote registry.
 */
export interface ListenOptions {
  /** Address to listen on (default 127.0.0.1); must exist in `netns` when that is set. */
  listenHost?: string;
  /** Name of an existing network namespace (`ip netns add`) to run the registry in; needs root. */
  netns?: string;
}

export type RegistryOptions = ListenOptions &
  (
    | { auth: "none" }
    | { auth: "htpasswd"; users: Record<string, string> }
    | {
        auth: "token";
        users: Record<string, string>;
        publicPrefixes?: string[];
        /** Address the token server (the realm) listens on (default 127.0.0.1); another one (127.0.0.2, a veth address) puts it outside the registry's host. */
        realmHost?: string;
        /** Credentials check instead of `users` (minted, expiring cloud passwords), and the registry tokens' lifetime. */
        accept?: (user: string, password: string) => boolean;
        tokenTtlSeconds?: number;
      }
  );

export interface RegistryRequestRecord {
  method: string;
  path: string;
  status: number;
}

export interface RunningRegistry {
  kind: RegistryOptions["auth"];
  host: string;
  url: string;
  port: number;
  dir: string;
  tokenServer: TokenServer | undefined;
  requests(): RegistryRequestRecord[];
  clearRequests(): void;
  /**
   * Waits until the registry has logged everything sent so far, then clears the
   * log. distribution can write a request's log line after the client already
   * has the answer; clear with this before counting requests.
   */
  flushRequests(): Promise<void>;
  /** The registry process's pid while it runs. */
  pid(): number | undefined;
  /** Stops the registry process (the port then refuses connections). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same storage. */
  restart(): Promise<void>;
}

const running = new Set<RunningRegistry>();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const r of running) r.stop().catch(() => undefined);
  });
}

function configYaml(o: { host: string; port: number; storage: string; auth: string }): string {
  return `version: 0.1
log:
  level: info
  formatter: json
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${o.storage}
  delete:
    enabled: true
http:
  addr: ${o.host}:${o.port}
  secret: gantry-test-secret
${o.auth}`;
}

export async function startRegistry(opts: RegistryOptions): Promise<RunningRegistry> {
  installExitHook();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gantry-registry-${opts.auth}-`));
  const storage = path.join(dir, "storage");
  fs.mkdirSync(storage);
  const listenHost = opts.listenHost ?? "127.0.0.1";
  // A fresh namespace has every port free; a loopback port must be probed.
  const port = opts.netns ? 5000 + crypto.randomInt(20_000) : await freePort();
  let tokenServer: TokenServer | undefined;
  let auth = "";
  if (opts.auth === "htpasswd") {
    const file = path.join(dir, "htpasswd");
    const lines = Object.entries(opts.users).map(([u, p]) => execFileSync("htpasswd", ["-Bbn", u, p], { encoding: "utf8" }).trim());
    fs.writeFileSync(file, `${lines.join("\n")}\n`);
    auth = `auth:\n  htpasswd:\n    realm: basic-realm\n    path: ${file}\n`;
  } else if (opts.auth === "token") {
    tokenServer = await startTokenServer({
      dir,
      users: opts.users,
      publicPrefixes: opts.publicPrefixes ?? ["public/"],
      host: opts.realmHost,
      accept: opts.accept,
      tokenTtlSeconds: opts.tokenTtlSeconds,
    });
    auth = `auth:\n  token:\n    realm: ${tokenServer.realm}\n    service: ${tokenServer.service}\n    issuer: ${tokenServer.issuer}\n    rootcertbundle: ${tokenServer.certFile}\n`;
  }
  const configFile = path.join(dir, "config.yml");
  fs.writeFileSync(configFile, configYaml({ host: listenHost, port, storage, auth }));

  const records: RegistryRequestRecord[] = [];
  let child: ChildProcess | undefined;
  let buffered = "";
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!line.startsWith("{")) continue;
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        const method = entry["http.request.method"];
        const uri = entry["http.request.uri"];
        const status = entry["http.response.status"];
        if (typeof method !== "string" || typeof uri !== "string") continue;
        const msg = String(entry.msg);
        if (typeof status === "number" && msg.startsWith("response completed")) records.push({ method, path: uri, status });
        // distribution logs refused authorization without a status line; it answered 401.
        else if (msg.startsWith("error authorizing context")) records.push({ method, path: uri, status: 401 });
      } catch {
        // not a log line of interest
      }
    }
  };

  const start = async () => {
    // `ip netns exec` execs the command: the child is the registry itself, signals reach it.
    const [cmd, args] = opts.netns ? ["ip", ["netns", "exec", opts.netns, "docker-registry", "serve", configFile]] : ["docker-registry", ["serve", configFile]];
    child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    await waitForHttp(`http://${listenHost}:${port}/v2/`);
  };
  const stopProcess = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill("SIGTERM");
      setTimeout(() => c.kill("SIGKILL"), 3000).unref();
    });
  };

  await start();
  const reg: RunningRegistry = {
    kind: opts.auth,
    host: `${listenHost}:${port}`,
    url: `http://${listenHost}:${port}`,
    port,
    dir,
    tokenServer,
    requests: () => [...records],
    clearRequests: () => void records.splice(0),
    flushRequests: async () => {
      const marker = `/v2/?gantry-flush=${crypto.randomUUID()}`;
      await (await fetch(`http://${listenHost}:${port}${marker}`)).arrayBuffer();
      const deadline = Date.now() + 5000;
      while (!records.some((r) => r.path === marker)) {
        if (Date.now() > deadline) throw new Error("the registry did not log the flush marker within 5 s");
        await new Promise((r) => setTimeout(r, 10));
      }
      records.splice(0);
    },
    pid: () => (child && child.exitCode === null ? child.pid : undefined),
    stop: async () => {
      await stopProcess();
    },
    restart: async () => {
      await stopProcess();
      await start();
    },
  };
  running.add(reg);
  return reg;
}

/** Stops every registry and token server this process started, and removes their storage. */
export async function stopAll(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.all(
    all.map(async (r) => {
      await r.stop();
      await r.tokenServer?.stop();
      fs.rmSync(r.dir, { recursive: true, force: true });
    }),
  );
}
