import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { log } from "@/lib/log";
import { STORAGE_ISSUER, STORAGE_SERVICE } from "./signing";

/**
 * The embedded storage engine: CNCF distribution (Debian `docker-registry`)
 * as a child process on a loopback port, filesystem storage under the data
 * directory, `auth: token` trusting only Gantry's signing certificate. Gantry
 * is the only way in: it authenticates every client and calls distribution
 * with its own short-lived tokens (signing.ts).
 *
 * The supervisor restarts distribution when it dies (1 s, doubling to 30 s)
 * and stops it on shutdown. The config is rewritten at every start.
 */
export const DISTRIBUTION_BINARIES = ["docker-registry", "registry"];

/** The distribution binary on PATH, or null. */
export function findDistributionBinary(): string | null {
  // eslint-disable-next-line no-restricted-properties -- PATH is the system's program search path, not Gantry's configuration
  const dirs = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
  for (const name of DISTRIBUTION_BINARIES) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return null;
}

export interface DistributionOptions {
  binary: string;
  /** The registry directory (<data dir>/registry): storage/, config.yml, http-secret. */
  dir: string;
  certFile: string;
  /** Realm distribution names in its own challenges: never seen by clients (Gantry answers them). */
  realm: string;
}

/** The config distribution runs with (YAML is JSON's superset: written as JSON, no YAML library needed). */
export function distributionConfig(o: { port: number; storage: string; secret: string; certFile: string; realm: string }) {
  return {
    version: 0.1,
    log: { level: "warn", formatter: "json", accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: o.storage },
      delete: { enabled: true },
      // Abandoned uploads are purged after a week (distribution's default), checked daily.
      maintenance: { uploadpurging: { enabled: true, age: "168h", interval: "24h", dryrun: false } },
      redirect: { disable: true },
    },
    http: {
      addr: `127.0.0.1:${o.port}`,
      // Fixed across restarts: upload URLs carry state signed with it.
      secret: o.secret,
      // Locations relative: Gantry maps them to the client's names and host.
      relativeurls: true,
      headers: { "X-Content-Type-Options": ["nosniff"] },
    },
    auth: { token: { realm: o.realm, service: STORAGE_SERVICE, issuer: STORAGE_ISSUER, rootcertbundle: o.certFile } },
  };
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function readOrCreateSecret(file: string): string {
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    const secret = crypto.randomBytes(32).toString("base64url");
    fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "w" });
    return secret;
  }
}

export class EmbeddedDistribution {
  readonly #o: DistributionOptions;
  #child: ChildProcess | undefined;
  #port = 0;
  #stopping = false;
  #backoffMs = 1000;
  #restartTimer: NodeJS.Timeout | undefined;
  #ready: Promise<void> | undefined;

  constructor(o: DistributionOptions) {
    this.#o = o;
  }

  /** Where distribution listens now (it may move to another port after a restart). */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get running(): boolean {
    return Boolean(this.#child && this.#child.exitCode === null && this.#child.signalCode === null);
  }

  /** The config file of the running process: `npm run gantry -- registry gc` runs the collector with it. */
  get configFile(): string {
    return path.join(this.#o.dir, "config.yml");
  }

  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  start(): Promise<void> {
    this.#stopping = false;
    this.#ready = this.#spawn();
    return this.#ready;
  }

  /** Resolves when distribution answers (after a restart too). */
  ready(): Promise<void> {
    return this.#ready ?? Promise.reject(new Error("distribution was not started"));
  }

  async #spawn(): Promise<void> {
    const dir = this.#o.dir;
    fs.mkdirSync(path.join(dir, "storage"), { recursive: true, mode: 0o700 });
    const secret = readOrCreateSecret(path.join(dir, "http-secret"));
    this.#port = await freeLoopbackPort();
    const config = distributionConfig({ port: this.#port, storage: path.join(dir, "storage"), secret, certFile: this.#o.certFile, realm: this.#o.realm });
    fs.writeFileSync(this.configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    const child = spawn(this.#o.binary, ["serve", this.configFile], { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    const relay = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line.trim()) continue;
        let entry: Record<string, unknown> = {};
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          entry = { msg: line };
        }
        const msg = String(entry.msg ?? "").slice(0, 2000);
        // Every 4xx it answers is logged as "response completed with error" at level error: those are the clients' (Gantry answers them).
        // Anonymous probes (Gantry's own readiness check) are refused with "error authorizing context": expected.
        const level = msg.startsWith("response completed") || msg.startsWith("error authorizing context") ? "debug" : entry.level === "error" || entry.level === "fatal" || entry.level === "panic" ? "error" : "warn";
        log[level]("distribution", { msg, err: entry.err === undefined ? undefined : String(entry.err).slice(0, 2000) });
      }
    };
    child.stdout?.on("data", relay);
    child.stderr?.on("data", relay);
    child.once("exit", (code, signal) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      if (this.#stopping) return;
      log.error("distribution exited; restarting", { code, signal, inMs: this.#backoffMs });
      // Requests meanwhile wait for the restart (ready()) instead of failing on a closed port.
      const restarted = new Promise<void>((resolve, reject) => {
        this.#restartTimer = setTimeout(() => {
          this.#spawn().then(
            () => {
              this.#backoffMs = 1000;
              resolve();
            },
            (e: unknown) => {
              log.error("distribution did not restart", { error: e instanceof Error ? e.message : String(e) });
              reject(e instanceof Error ? e : new Error(String(e)));
            },
          );
        }, this.#backoffMs);
      });
      restarted.catch(() => undefined);
      this.#ready = restarted;
      this.#restartTimer?.unref();
      this.#backoffMs = Math.min(this.#backoffMs * 2, 30_000);
    });
    await waitUntilAnswering(`${this.url}/v2/`, child);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }
}

async function waitUntilAnswering(url: string, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`distribution exited at start (code ${child.exitCode}, signal ${child.signalCode})`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 401) return; // token auth is on: the only answer it gives us anonymously
      throw new Error(`distribution answered ${res.status} to an anonymous /v2/: token auth is not on`);
    } catch (e) {
      if (e instanceof Error && e.message.includes("token auth is not on")) throw e;
      if (Date.now() > deadline) throw new Error(`distribution did not answer on ${url} within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
