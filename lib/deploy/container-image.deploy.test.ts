import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { dockerAvailable, startDockerd, stopAllDockerd, type RunningDockerd } from "@/lib/testing/dockerd";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";
import { freePort } from "@/lib/testing/registries/ports";
import { baseImages } from "./base-images";
import { keepLast, lockEngineRoot } from "./engine-cache";

/**
 * The Dockerfile, built and run for real: both bases made offline (Debian's
 * mmdebstrap and Node from npm: lib/deploy/base-images.ts), the image built
 * on them by a private Docker engine, then run as an operator would (a named
 * volume on /data, and a read-only root filesystem as the Helm chart runs it):
 * ready, an account, a license pull through the proxy and a push to its
 * registry with skopeo, SIGTERM straight to Node, and everything still there
 * in a new container on the same volume.
 */
const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "../..");
const stamp = crypto.randomBytes(4).toString("hex");
const IMAGE = `gantry-test/gantry:${stamp}`;
// The build stage, tagged so that a kept engine keeps its layers (npm ci) for the next run.
const BUILD_STAGE = `gantry-test/gantry-build:${stamp}`;
const VOLUME = `gantry-test-data-${stamp}`;
const EMAIL = `owner-${stamp}@example.com`;
const PASSWORD = "correct horse battery staple";

let dockerd: RunningDockerd;
let engine: ReturnType<typeof lockEngineRoot>;
let upstream: RunningRegistry;
let port = 0;
let registryPort = 0;
let token = "";
let licenseId = "";
let proxied = "";
let hostedImage = "";
const digests: { upstream: string; pushed: string } = { upstream: "", pushed: "" };
const timings: Record<string, number> = {};
let work = "";

async function docker(args: string[], timeoutMs = 120_000): Promise<string> {
  const r = await dockerd.docker(args, { timeoutMs });
  if (r.code !== 0) throw new Error(`docker ${args.slice(0, 2).join(" ")} failed (${r.timedOut ? "timed out" : r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

/** A Gantry container on the host's network, on the test volume, with a read-only root filesystem. */
async function runGantry(name: string): Promise<void> {
  await docker([
    "run", "--detach", "--name", name, "--network", "host",
    "--read-only", "--tmpfs", "/tmp:rw,exec,size=512m",
    "--volume", `${VOLUME}:/data`,
    "--env", "HOST=127.0.0.1",
    "--env", `PORT=${port}`,
    "--env", `GANTRY_REGISTRY_PORT=${registryPort}`,
    "--env", `GANTRY_PUBLIC_URL=http://127.0.0.1:${port}`,
    "--env", `GANTRY_PROXY_URL=http://127.0.0.1:${port}`,
    "--env", `GANTRY_REGISTRY_URL=http://127.0.0.1:${registryPort}`,
    // The upstream registry listens on this host's loopback.
    "--env", "GANTRY_ALLOWED_PRIVATE_HOSTS=127.0.0.1/32",
    "--env", "GANTRY_MIN_FREE_DISK=1GiB",
    IMAGE,
  ]);
}

async function waitReady(name: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3000) }).catch(() => null);
    if (res?.status === 200) return;
    await res?.arrayBuffer();
    if (Date.now() > deadline) throw new Error(`/readyz not 200 within ${timeoutMs} ms (${res?.status}):\n${(await dockerd.docker(["logs", "--tail", "80", name])).stderr}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const api = (p: string, init: { method?: string; body?: unknown } = {}) =>
  fetch(`http://127.0.0.1:${port}/api/v1${p}`, {
    method: init.method ?? (init.body ? "POST" : "GET"),
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });

/** skopeo copy to an OCI layout; the manifest digest it copied. */
async function pull(ref: string, creds: string): Promise<string> {
  const digestFile = path.join(work, `digest-${crypto.randomBytes(4).toString("hex")}`);
  const dest = path.join(work, `pull-${crypto.randomBytes(4).toString("hex")}`);
  await run("skopeo", ["copy", "--quiet", "--src-tls-verify=false", "--src-creds", creds, "--digestfile", digestFile, `docker://${ref}`, `oci:${dest}:x`], { timeout: 180_000 });
  return fs.readFileSync(digestFile, "utf8").trim();
}

beforeAll(async () => {
  if (!dockerAvailable()) throw new Error("The image test needs root and Debian's docker.io (lib/ops/install-test-packages.sh installs it).");
  work = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-image-test-"));
  // overlay2 where the kernel has it (these machines do): vfs copies the whole filesystem at every build step.
  engine = lockEngineRoot();
  dockerd = await startDockerd({ storageDriver: "overlay2", dataRoot: engine?.dataRoot }).catch((e: unknown) => {
    engine?.release();
    engine = undefined;
    console.warn(`dockerd on overlay2 failed, using vfs: ${String(e).slice(0, 300)}`);
    return startDockerd();
  });
  let started = Date.now();
  const bases = await baseImages(dockerd);
  Object.assign(timings, { baseRootfs: bases.timings.rootfs, baseImport: bases.timings.import, baseBuild: bases.timings.build, bases: (Date.now() - started) / 1000 });

  started = Date.now();
  const buildArgs = ["--network", "host", "--build-arg", `BASE=${bases.build}`, "--build-arg", `RUNTIME_BASE=${bases.runtime}`];
  await docker(["build", ...buildArgs, "--target", "build", "-t", BUILD_STAGE, ROOT], 45 * 60_000);
  await docker(["build", ...buildArgs, "-t", IMAGE, ROOT], 30 * 60_000);
  timings.imageBuild = (Date.now() - started) / 1000;

  upstream = await startRegistry({ auth: "htpasswd", users: { robot: "robot-pw" } });
  digests.upstream = (await pushImage(await buildImage({ files: { "api.txt": `api ${stamp}\n` } }), { registry: upstream, repo: "acme/api", tag: "1.0", creds: "robot:robot-pw" })).digest;
  port = await freePort();
  registryPort = await freePort();
  await docker(["volume", "create", VOLUME]);
}, 60 * 60_000);

// A failed step shows what the containers said.
afterEach(async ({ task }) => {
  if (task.result?.state !== "fail" || !dockerd) return;
  const names = (await dockerd.docker(["ps", "--all", "--filter", `name=gantry-${stamp}`, "--format", "{{.Names}} {{.Status}}"])).stdout.trim();
  for (const line of names.split("\n").filter(Boolean)) {
    const logs = await dockerd.docker(["logs", "--tail", "60", line.split(" ")[0]!]);
    console.log(`--- ${line}\n${logs.stdout}${logs.stderr}`);
  }
});

afterAll(async () => {
  console.log(`container image test (${engine ? "kept engine" : "throwaway engine"}): ${JSON.stringify(timings)}`);
  if (engine && dockerd) {
    const containers = (await dockerd.docker(["ps", "--all", "--quiet", "--filter", `name=gantry-${stamp}`])).stdout.split("\n").filter(Boolean);
    if (containers.length) await dockerd.docker(["rm", "--force", ...containers]);
    await dockerd.docker(["volume", "rm", "--force", VOLUME, `${VOLUME}-early`]);
    await keepLast(dockerd, [
      { image: IMAGE, last: "gantry-test/gantry:last" },
      { image: BUILD_STAGE, last: "gantry-test/gantry-build:last" },
    ]);
  }
  await stopAllDockerd();
  engine?.release();
  await stopAll();
  cleanupImages();
  if (work) fs.rmSync(work, { recursive: true, force: true });
}, 600_000);

describe("the container image", () => {
  it("runs Node as a non-root user, with /data as its volume, a health check on /healthz and the distribution registry inside", async () => {
    const [config] = JSON.parse(await docker(["image", "inspect", IMAGE])) as { Size: number; Config: { User: string; Volumes: Record<string, unknown>; Entrypoint: string[]; Cmd: string[]; Env: string[]; Healthcheck: { Test: string[] } } }[];
    timings.imageMiB = Math.round(config!.Size / 2 ** 20);
    const c = config!.Config;
    expect(c.User).toBe("10001:10001");
    expect(Object.keys(c.Volumes)).toEqual(["/data"]);
    expect(c.Env).toContain("GANTRY_DATA_DIR=/data");
    // Exec form, node first: no shell, no npm between the signal and Gantry.
    expect(c.Entrypoint[0]).toBe("node");
    expect(c.Cmd).toEqual(["start"]);
    expect(c.Healthcheck.Test).toEqual(["CMD", "node", "/app/deploy/docker/healthcheck.cjs"]);
    const distribution = await docker(["run", "--rm", "--entrypoint", "docker-registry", IMAGE, "--version"]);
    expect(distribution).toMatch(/v?2\.\d+\.\d+/);
    // The build ran only in the build stage: no compiler, no dev dependencies, no secrets generated at build time.
    const probe = await dockerd.docker(["run", "--rm", "--entrypoint", "sh", IMAGE, "-c", "command -v g++ || echo no-g++; ls /app/node_modules/vitest 2>&1 | head -1; ls -A /data; ls /app/data 2>&1 | head -1"]);
    expect(probe.stdout).toContain("no-g++");
    expect(probe.stdout + probe.stderr).toMatch(/node_modules\/vitest'?: No such file/);
    expect(probe.stdout + probe.stderr).toMatch(/\/app\/data'?: No such file/);
  });

  it("applies the migrations at start and serves: /readyz 200, the portal's pages, healthy, node as PID 1", async () => {
    const started = Date.now();
    await runGantry(`gantry-${stamp}-1`);
    await waitReady(`gantry-${stamp}-1`);
    timings.firstStart = (Date.now() - started) / 1000;
    const logs = await dockerd.docker(["logs", `gantry-${stamp}-1`]);
    expect(logs.stdout + logs.stderr).toMatch(/All migrations have been successfully applied|migrations? (has|have) been applied/i);
    const signUp = await fetch(`http://127.0.0.1:${port}/sign-up`);
    const html = await signUp.text();
    expect(signUp.status).toBe(200);
    // A static chunk of the image's own build is served.
    const chunk = /\/_next\/static\/[^"]+\.js/.exec(html)?.[0];
    expect(chunk).toBeDefined();
    expect((await fetch(`http://127.0.0.1:${port}${chunk}`)).status).toBe(200);
    const pid1 = await docker(["exec", `gantry-${stamp}-1`, "cat", "/proc/1/cmdline"]);
    expect(pid1.split("\0")[0]).toBe("node");
    expect((await docker(["exec", `gantry-${stamp}-1`, "id", "-u"])).trim()).toBe("10001");
    // Docker's own health check (every 30 s) runs the image's HEALTHCHECK.
    const deadline = Date.now() + 120_000;
    let health = "";
    while (Date.now() < deadline && health !== "healthy") {
      health = (await docker(["inspect", "--format", "{{.State.Health.Status}}", `gantry-${stamp}-1`])).trim();
      if (health !== "healthy") await new Promise((r) => setTimeout(r, 2000));
    }
    expect(health).toBe("healthy");
  }, 600_000);

  it("signs up with the CLI in the container, and an API token works", async () => {
    const name = `gantry-${stamp}-1`;
    const boot = await docker(["exec", name, "gantry", "bootstrap", "--email", EMAIL, "--password", PASSWORD, "--team", "Acme"], 180_000);
    expect(JSON.parse(boot.trim().split("\n").at(-1)!)).toMatchObject({ user: expect.anything() });
    const created = await docker(["exec", name, "gantry", "create-token", "--email", EMAIL, "--team", "Acme", "--name", "ci"], 180_000);
    token = created.trim().split("\n").at(-1)!;
    const team = await api("/team");
    expect(team.status).toBe(200);
  }, 400_000);

  it("pushes to its own registry and serves a license pull through the proxy and from the registry, with skopeo", async () => {
    const slug = `acme-${stamp}`;
    expect((await api("/apps", { body: { name: "Acme Suite", slug } })).status).toBe(201);
    // A vendor pushes with their portal email and password.
    const tools = await buildImage({ files: { "tools.txt": `tools ${stamp}\n` } });
    const digestFile = path.join(work, "pushed");
    await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", `${EMAIL}:${PASSWORD}`, "--digestfile", digestFile, `oci:${tools.layoutDir}:${tools.tag}`, `docker://127.0.0.1:${registryPort}/${slug}/tools:1.0`], { timeout: 180_000 });
    digests.pushed = fs.readFileSync(digestFile, "utf8").trim();

    const reg = await api("/registries", { body: { name: "Upstream", endpoint: upstream.url, username: "robot", password: "robot-pw" } });
    expect(reg.status).toBe(201);
    hostedImage = `127.0.0.1:${registryPort}/${slug}/tools:1.0`;
    const release = await api(`/apps/${slug}/releases`, { body: { version: "1.0.0", images: [`${upstream.host}/acme/api:1.0`, hostedImage] } });
    const body = (await release.json()) as { release: { images: { image: string; status: string; rewritten: string }[] } };
    expect(release.status, JSON.stringify(body)).toBe(201);
    const byImage = new Map(body.release.images.map((i) => [i.image, i]));
    const api1 = byImage.get(`${upstream.host}/acme/api:1.0`);
    expect(api1?.status).toBe("private");
    expect(byImage.get(hostedImage)?.status).toBe("vendor_registry");
    proxied = api1!.rewritten;
    expect(proxied).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port}/proxy/${slug}/`));

    const customer = await api(`/apps/${slug}/customers`, { body: { name: "Globex" } });
    licenseId = ((await customer.json()) as { license: { licenseId: string } }).license.licenseId;
    expect(await pull(proxied, `LICENSE_ID:${licenseId}`)).toBe(digests.upstream);
    expect(await pull(hostedImage, `LICENSE_ID:${licenseId}`)).toBe(digests.pushed);
    // A wrong license is refused.
    await expect(pull(proxied, `LICENSE_ID:${"x".repeat(32)}`)).rejects.toThrow(/unauthorized|denied|401/i);
  }, 600_000);

  it("stops on SIGTERM at once: docker stop reaches Node, which drains and exits 0", async () => {
    const name = `gantry-${stamp}-1`;
    const started = Date.now();
    await docker(["stop", "--time", "60", name], 90_000);
    const seconds = (Date.now() - started) / 1000;
    timings.stop = seconds;
    expect(seconds).toBeLessThan(30);
    expect((await docker(["inspect", "--format", "{{.State.ExitCode}}", name])).trim()).toBe("0");
    const logs = await dockerd.docker(["logs", name]);
    expect(logs.stdout + logs.stderr).toMatch(/SIGTERM: draining[\s\S]*stopped/);
    await docker(["rm", name]);
  }, 120_000);

  it("stops at once when SIGTERM comes while it is still starting (migrating, or before it listens)", async () => {
    // start on a new volume: the signal comes while the migrations run; serve on the
    // migrated one: it comes while Next prepares, before Gantry's own handler exists.
    const cases = [
      { command: "start", volume: `${VOLUME}-early`, waitMs: 3000, said: /SIGTERM: stopping the migration|SIGTERM before Gantry listened/ },
      { command: "serve", volume: VOLUME, waitMs: 1500, said: /SIGTERM before Gantry listened: exiting/ },
    ];
    for (const c of cases) {
      const name = `gantry-${stamp}-early-${c.command}`;
      const earlyPort = await freePort();
      await docker(["run", "--detach", "--name", name, "--network", "host", "--volume", `${c.volume}:/data`, "--env", "HOST=127.0.0.1", "--env", `PORT=${earlyPort}`, "--env", `GANTRY_REGISTRY_PORT=${await freePort()}`, "--env", "GANTRY_MIN_FREE_DISK=1GiB", IMAGE, c.command]);
      await new Promise((r) => setTimeout(r, c.waitMs));
      expect((await docker(["inspect", "--format", "{{.State.Running}}", name])).trim()).toBe("true");
      // Still starting: nothing listens yet.
      await expect(fetch(`http://127.0.0.1:${earlyPort}/healthz`, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
      const started = Date.now();
      await docker(["stop", "--time", "60", name], 90_000);
      // Not the 60 s after which Docker would have killed it.
      expect((Date.now() - started) / 1000).toBeLessThan(20);
      const logs = await dockerd.docker(["logs", name]);
      expect(logs.stdout + logs.stderr).toMatch(c.said);
      await docker(["rm", "--force", name]);
    }
    await docker(["volume", "rm", `${VOLUME}-early`]);
  }, 300_000);

  it("keeps everything on the volume: a new container has the account, the license, the proxy cache and the pushed image", async () => {
    const name = `gantry-${stamp}-2`;
    const started = Date.now();
    await runGantry(name);
    await waitReady(name);
    timings.secondStart = (Date.now() - started) / 1000;
    // The database (the token and its team), and the key-encryption key: the stored registry password still decrypts.
    const registries = (await (await api("/registries")).json()) as { registries: { id: string }[] };
    const test = await api(`/registries/${registries.registries[0]!.id}/test`, { body: {} });
    expect(((await test.json()) as { ok: boolean }).ok).toBe(true);
    // The proxy cache: with the upstream gone the license still pulls the release (last known tag, cached layers).
    await upstream.stop();
    expect(await pull(proxied, `LICENSE_ID:${licenseId}`)).toBe(digests.upstream);
    // The registry's storage and its signing key.
    expect(await pull(hostedImage, `LICENSE_ID:${licenseId}`)).toBe(digests.pushed);
    await docker(["stop", "--time", "60", name], 90_000);
  }, 600_000);
});
