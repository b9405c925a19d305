import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * A private Docker engine (Debian `docker.io`'s dockerd) as a real client for
 * integration tests: `docker login`, `docker pull`, `docker push`, and (for
 * the image tests) `docker build`, `docker run`.
 *
 *   const d = await startDockerd();
 *   afterAll(() => stopAllDockerd());
 *   await d.docker(["login", "127.0.0.1:3001", "-u", "u", "--password-stdin"], { input: "secret" });
 *
 * Each engine has its own data root, exec root, socket and client config in a
 * temp dir, runs without iptables or a bridge (`--bridge=none`: containers get
 * host networking, `--network host`) and on the vfs storage driver (no overlay
 * needed), or overlay2 when asked (`storageDriver`: an image build on vfs copies
 * the whole filesystem at every step). `dataRoot` keeps images and the build
 * cache in a directory of the caller's, kept after stop (one engine at a time). 127.0.0.0/8 registries are insecure (plain http) by default;
 * `insecureRegistries` adds more. The engine needs root; without it
 * `startDockerd` throws.
 *
 * What dockerd cannot take per instance: the CA it trusts for a registry
 * (always /etc/docker/certs.d/<host:port>/ca.crt) and name resolution (the
 * host's resolver). `trustRegistryCa` and `addHostsEntry` write those and
 * undo them on stop.
 */
export interface DockerResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunningDockerd {
  /** unix:///…/docker.sock */
  host: string;
  dir: string;
  /** The environment for a docker CLI talking to this engine (DOCKER_HOST, DOCKER_CONFIG). */
  env: Record<string, string>;
  /** A docker CLI command against this engine, time-bound; never throws on a non-zero exit. */
  docker(args: string[], opts?: { input?: string; timeoutMs?: number; cwd?: string }): Promise<DockerResult>;
  /** Trusts `caPem` for registry `hostPort` (/etc/docker/certs.d), until stop. */
  trustRegistryCa(hostPort: string, caPem: string): void;
  /** The engine's log so far. */
  log(): string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;
const running = new Set<RunningDockerd & { kill(): void }>();

export function dockerAvailable(): boolean {
  return process.getuid?.() === 0 && ["/usr/sbin/dockerd", "/usr/bin/dockerd"].some((p) => fs.existsSync(p)) && whichSync("docker") !== null;
}

function whichSync(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const p = path.join(dir, cmd);
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

export async function startDockerd(
  opts: { insecureRegistries?: string[]; storageDriver?: "vfs" | "overlay2"; dataRoot?: string } = {},
): Promise<RunningDockerd> {
  if (process.getuid?.() !== 0) throw new Error("dockerd needs root");
  const dockerdBin = ["/usr/sbin/dockerd", "/usr/bin/dockerd"].find((p) => fs.existsSync(p));
  if (!dockerdBin) throw new Error("dockerd is not installed (Debian: apt-get install docker.io)");
  // A short path: the socket path must fit in sockaddr_un (108 bytes).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gd-"));
  const sock = path.join(dir, "docker.sock");
  const config = path.join(dir, "client");
  fs.mkdirSync(config, { recursive: true });
  fs.writeFileSync(path.join(config, "config.json"), "{}\n");
  const args = [
    "--data-root", opts.dataRoot ?? path.join(dir, "root"),
    "--exec-root", path.join(dir, "exec"),
    "-H", `unix://${sock}`,
    "--pidfile", path.join(dir, "docker.pid"),
    "--storage-driver", opts.storageDriver ?? "vfs",
    "--iptables=false",
    "--ip6tables=false",
    "--bridge=none",
    ...(opts.insecureRegistries ?? []).flatMap((r) => ["--insecure-registry", r]),
  ];
  let output = "";
  const child: ChildProcess = spawn(dockerdBin, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-200_000)));
  child.stderr?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-200_000)));
  const env = { DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: config };
  const undo: (() => void)[] = [];

  const docker = (cmd: string[], o: { input?: string; timeoutMs?: number; cwd?: string } = {}) =>
    new Promise<DockerResult>((resolve) => {
      const p = spawn("docker", cmd, { env: { ...process.env, ...env }, cwd: o.cwd, stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        p.kill("SIGKILL");
      }, o.timeoutMs ?? 120_000);
      p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      p.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, timedOut });
      });
      p.stdin.end(o.input ?? "");
    });

  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  const stop = async () => {
    running.delete(handle);
    for (const u of undo.splice(0).reverse()) u();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const late = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(late);
    }
    // What the engine left mounted (exec/netns/default once a container ran;
    // overlay2 layers if it died), then its layers and containerd's state.
    unmountUnder(dir);
    if (opts.dataRoot) unmountUnder(opts.dataRoot);
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  const handle = {
    host: env.DOCKER_HOST,
    dir,
    env,
    docker,
    trustRegistryCa(hostPort: string, caPem: string) {
      const certDir = path.join("/etc/docker/certs.d", hostPort);
      const existed = fs.existsSync(certDir);
      fs.mkdirSync(certDir, { recursive: true });
      fs.writeFileSync(path.join(certDir, "ca.crt"), caPem);
      undo.push(() => (existed ? fs.rmSync(path.join(certDir, "ca.crt"), { force: true }) : fs.rmSync(certDir, { recursive: true, force: true })));
    },
    log: () => output,
    stop,
    kill,
  };
  running.add(handle);

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dockerd exited (${child.exitCode}):\n${output.slice(-4000)}`);
    const r = await docker(["version", "--format", "{{.Server.Version}}"], { timeoutMs: 5_000 });
    if (r.code === 0) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`dockerd did not answer within ${START_TIMEOUT_MS} ms:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return handle;
}

/** Lazily unmounts every mount at or below `dir`, deepest first. */
function unmountUnder(dir: string): void {
  const mounts = fs
    .readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => (line.split(" ")[1] ?? "").replace(/\\040/g, " "))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync("umount", ["-l", m], { stdio: "ignore" });
}

export async function stopAllDockerd(): Promise<void> {
  await Promise.all([...running].map((d) => d.stop()));
}

/**
 * Maps `name` to `address` in /etc/hosts (for clients that take no per-call
 * mapping: dockerd resolves registry names with the host's resolver), until
 * the returned function is called.
 */
export function addHostsEntry(name: string, address = "127.0.0.1"): () => void {
  const file = "/etc/hosts";
  const marker = `# gantry-test ${process.pid} ${name}`;
  fs.appendFileSync(file, `${address} ${name} ${marker}\n`);
  return () => {
    const kept = fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => !l.endsWith(marker));
    fs.writeFileSync(file, kept.join("\n"));
  };
}

process.on("exit", () => {
  for (const d of running) d.kill();
});
