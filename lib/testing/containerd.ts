import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * A private containerd daemon (Debian `containerd`, driven with its `ctr`) as
 * a real registry client for integration tests:
 *
 *   const cd = await startContainerd();
 *   afterAll(() => stopAllContainerd());   // stops it and removes its dirs, even after a failed test
 *   const r = await cd.pull(`${proxyHost}/proxy/app/up/acme/api:1`, { user: `LICENSE_ID:${id}`, plainHttp: true });
 *   const img = await cd.image(ref);       // what was pulled: index, manifests, config, layers
 *   const bytes = await cd.contentGet(img.layers[0]);
 *
 * Each daemon has its own root, state and socket in a temp dir, and its own
 * config (version 2) that disables every plugin needing what these machines
 * lack or tests do not want: CRI, the tracing exporters, the snapshotters that
 * need overlay/btrfs/zfs/devmapper/aufs, the task runtimes (runc, cgroups) and
 * the `opt` plugin (which would create /opt/containerd). What is left is the
 * content store, metadata, images, leases and the `native` snapshotter, which
 * copies directories and needs no overlay: enough for `ctr images pull` to
 * fetch, verify and unpack like a node's containerd does, without running any
 * container. containerd needs root; without it `startContainerd` throws.
 *
 * Every ctr command is time-bound (SIGKILL at the deadline).
 */

export interface CtrResult {
  /** Exit code; null when the command was killed (timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface PullOptions {
  /** `USER:PASS` for `--user` (Basic at the realm, then Bearer). */
  user?: string;
  /** `--plain-http`: speak HTTP to the registry (loopback test servers). */
  plainHttp?: boolean;
  /** `--platform`, e.g. `linux/arm64`; default: the host's platform. */
  platform?: string;
  /** Fetch every platform of an index (`--all-platforms`). */
  allPlatforms?: boolean;
  /** `--http-dump`: ctr prints every registry request and response (headers) on stderr. */
  httpDump?: boolean;
  timeoutMs?: number;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
}

/** An image as containerd stored it: the digests it holds, read back from its content store. */
export interface PulledImage {
  ref: string;
  /** What the tag resolved to (an index or a manifest). */
  target: Descriptor;
  /** The index, when the target is one. */
  index: Descriptor | undefined;
  /** The image manifest(s) containerd holds for this image (one for the host platform unless --all-platforms). */
  manifests: Descriptor[];
  /** Config blobs of those manifests. */
  configs: Descriptor[];
  /** Layer blobs of those manifests. */
  layers: Descriptor[];
  /** Config and layer digests: every blob (as opposed to manifest) fetched for the image, sorted and unique. */
  blobDigests: string[];
}

export interface RunningContainerd {
  /** The gRPC socket (`ctr --address`). */
  address: string;
  /** Namespace used by the helpers. */
  namespace: string;
  dir: string;
  /** Any ctr command against this daemon, in its namespace, time-bound. */
  ctr(args: string[], opts?: { timeoutMs?: number }): Promise<CtrResult>;
  /** `ctr images pull [--plain-http] [--user U:P] --snapshotter native REF`: fetch and unpack. Never throws on a failed pull. */
  pull(ref: string, opts?: PullOptions): Promise<CtrResult>;
  /** Raw bytes of a blob/manifest from the content store (`ctr content get`). */
  contentGet(digest: string, opts?: { timeoutMs?: number }): Promise<Buffer>;
  /** Digests in the content store. */
  contentDigests(): Promise<string[]>;
  /** The image named ref, walked from its target through the content store; throws if absent. */
  image(ref: string): Promise<PulledImage>;
  /** Image refs in the namespace. */
  images(): Promise<string[]>;
  /**
   * Removes every image and lets the garbage collector drop their content and
   * snapshots (synchronously), so the next pull fetches everything again: a
   * cold client against a warm proxy.
   */
  reset(): Promise<void>;
  /** Contents of `relPath` in every unpacked (native) snapshot: what a container would see. */
  unpackedFiles(relPath: string): string[];
  /** The daemon's log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

const DEFAULT_CTR_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 20_000;
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

const running = new Set<RunningContainerd>();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    // Synchronous last resort: kill the daemons; their temp dirs may remain.
    for (const c of running) (c as RunningContainerd & { kill(): void }).kill();
  });
}

/** Runs a command with a deadline; collects stdout as bytes. */
function runBounded(cmd: string, args: string[], timeoutMs: number): Promise<CtrResult & { stdoutBytes: Buffer }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let timedOut = false;
    child.stdout.on("data", (b: Buffer) => {
      outBytes += b.length;
      if (outBytes > MAX_OUTPUT_BYTES) child.kill("SIGKILL");
      else out.push(b);
    });
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({
        code: timedOut ? null : code,
        stdout: stdoutBytes.toString("utf8"),
        stdoutBytes,
        stderr: Buffer.concat(err).toString("utf8"),
        timedOut,
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}

function configToml(o: { root: string; state: string; address: string }): string {
  return `version = 2
root = "${o.root}"
state = "${o.state}"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.internal.v1.opt",
  "io.containerd.internal.v1.restart",
  "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.overlayfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.runtime.v1.linux",
  "io.containerd.runtime.v2.task",
  "io.containerd.monitor.v1.cgroups",
  "io.containerd.service.v1.tasks-service",
  "io.containerd.grpc.v1.tasks",
]

[grpc]
  address = "${o.address}"

[debug]
  level = "info"

[metrics]
  address = ""
`;
}

/** Mount points under dir (the walking differ bind-mounts snapshots while unpacking), deepest first. */
function mountsUnder(dir: string): string[] {
  let text = "";
  try {
    text = fs.readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

export async function startContainerd(opts: { namespace?: string } = {}): Promise<RunningContainerd> {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    throw new Error(
      `containerd needs root: these tests start a private containerd daemon and must run as root (uid 0), as CI does; this process runs as uid ${process.getuid?.() ?? "unknown"}.`,
    );
  }
  installExitHook();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-containerd-"));
  const root = path.join(dir, "root");
  const state = path.join(dir, "state");
  const address = path.join(dir, "containerd.sock");
  const configFile = path.join(dir, "config.toml");
  fs.writeFileSync(configFile, configToml({ root, state, address }));
  const namespace = opts.namespace ?? "gantry-test";

  let logText = "";
  const child: ChildProcess = spawn("containerd", ["--config", configFile], { stdio: ["ignore", "pipe", "pipe"] });
  const onLog = (b: Buffer) => {
    logText += b.toString("utf8");
    if (logText.length > 1_000_000) logText = logText.slice(-500_000);
  };
  child.stdout?.on("data", onLog);
  child.stderr?.on("data", onLog);
  let spawnError: Error | undefined;
  child.on("error", (e) => (spawnError = e));

  const ctrRaw = (args: string[], timeoutMs = DEFAULT_CTR_TIMEOUT_MS) => runBounded("ctr", ["--address", address, "--namespace", namespace, ...args], timeoutMs);
  const ctr = async (args: string[], o: { timeoutMs?: number } = {}): Promise<CtrResult> => {
    const { code, stdout, stderr, timedOut, durationMs } = await ctrRaw(args, o.timeoutMs);
    return { code, stdout, stderr, timedOut, durationMs };
  };
  const must = async (args: string[], timeoutMs?: number) => {
    const r = await ctrRaw(args, timeoutMs);
    if (r.code !== 0) throw new Error(`ctr ${args.join(" ")} failed (${r.timedOut ? "timed out" : `exit ${r.code}`}): ${r.stderr.trim()}`);
    return r;
  };

  let stopped = false;
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    running.delete(cd);
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(kill, 5000).unref();
      });
    }
    for (const m of mountsUnder(dir)) await runBounded("umount", ["-l", m], 10_000).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const readJson = async (digest: string) => JSON.parse((await cd.contentGet(digest)).toString("utf8")) as Record<string, unknown>;

  const cd: RunningContainerd & { kill(): void } = {
    address,
    namespace,
    dir,
    ctr,
    kill,
    log: () => logText,
    unpackedFiles: (relPath) => {
      const snapshots = path.join(root, "io.containerd.snapshotter.v1.native", "snapshots");
      if (!fs.existsSync(snapshots)) return [];
      return fs
        .readdirSync(snapshots)
        .map((id) => path.join(snapshots, id, relPath))
        .filter((f) => fs.existsSync(f))
        .map((f) => fs.readFileSync(f, "utf8"));
    },
    stop,
    pull: (ref, o = {}) => {
      const args = ["images", "pull", "--snapshotter", "native"];
      if (o.plainHttp) args.push("--plain-http");
      if (o.user) args.push("--user", o.user);
      if (o.platform) args.push("--platform", o.platform);
      if (o.allPlatforms) args.push("--all-platforms");
      if (o.httpDump) args.push("--http-dump");
      args.push(ref);
      return ctr(args, { timeoutMs: o.timeoutMs });
    },
    contentGet: async (digest, o = {}) => (await must(["content", "get", digest], o.timeoutMs)).stdoutBytes,
    contentDigests: async () => {
      const r = await must(["content", "ls", "--quiet"]);
      return r.stdout.split("\n").map((l) => l.trim()).filter(Boolean).sort();
    },
    images: async () => {
      const r = await must(["images", "ls", "--quiet"]);
      return r.stdout.split("\n").map((l) => l.trim()).filter(Boolean);
    },
    image: async (ref) => {
      const r = await must(["images", "ls"]);
      // REF TYPE DIGEST SIZE PLATFORMS LABELS: the ref has no spaces; SIZE is "858.0 B".
      const line = r.stdout.split("\n").find((l) => l.split(/\s+/)[0] === ref);
      if (!line) throw new Error(`containerd has no image ${ref}; it has: ${r.stdout.trim()}`);
      const [, mediaType = "", digest = ""] = line.split(/\s+/);
      const present = new Set(await cd.contentDigests());
      const targetBytes = await cd.contentGet(digest);
      const target: Descriptor = { mediaType, digest, size: targetBytes.length };
      let index: Descriptor | undefined;
      let manifests: Descriptor[] = [target];
      if (mediaType.endsWith(".index.v1+json") || mediaType.endsWith(".manifest.list.v2+json")) {
        index = target;
        const listed = (JSON.parse(targetBytes.toString("utf8")) as { manifests?: Descriptor[] }).manifests ?? [];
        manifests = listed.filter((m) => present.has(m.digest));
      }
      const configs: Descriptor[] = [];
      const layers: Descriptor[] = [];
      for (const m of manifests) {
        const json = (await readJson(m.digest)) as { config?: Descriptor; layers?: Descriptor[] };
        if (json.config) configs.push(json.config);
        layers.push(...(json.layers ?? []));
      }
      const blobDigests = [...new Set([...configs, ...layers].map((d) => d.digest))].sort();
      return { ref, target, index, manifests, configs, layers, blobDigests };
    },
    reset: async () => {
      const refs = await cd.images();
      if (refs.length > 0) await must(["images", "rm", "--sync", ...refs]);
      // Content fetched by a failed pull is held by no image: drop what is left.
      const left = await cd.contentDigests();
      if (left.length > 0) await must(["content", "rm", ...left]);
    },
  };
  running.add(cd);

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`containerd did not start: ${spawnError?.message ?? `exit ${child.exitCode ?? child.signalCode}`}\n${logText.slice(-4000)}`);
    }
    if (fs.existsSync(address)) {
      const v = await ctrRaw(["version"], 5000).catch(() => undefined);
      if (v?.code === 0) break;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`containerd did not answer on ${address} within ${START_TIMEOUT_MS} ms\n${logText.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return cd;
}

/** Stops every containerd this process started and removes their root, state and sockets. */
export async function stopAllContainerd(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop()));
}

/** sha256 digest of bytes, as `sha256:<hex>`. */
export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${crypto.createHash("sha256").update(bytes).digest("hex")}`;
}

/** The host's platform in containerd's terms (`linux/amd64`, `linux/arm64`). */
export function hostPlatform(): { os: string; architecture: string } {
  const arch = ({ x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", s390x: "s390x", ppc64: "ppc64le" } as Record<string, string>)[process.arch] ?? process.arch;
  return { os: "linux", architecture: arch };
}
