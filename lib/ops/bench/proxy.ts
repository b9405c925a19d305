/**
 * `npm run bench:proxy`: pull-through performance of Gantry's registry proxy.
 * In one run, on the same ~200 MB image, medians over alternating runs of
 * `skopeo copy`: direct from the token-auth upstream, through Gantry, and
 * through distribution's own proxy mode (cold cache) in front of the same
 * upstream, the anchor. Then Gantry's peak RSS growth while streaming a 1 GB
 * blob, and 32 concurrent pulls of a small image.
 *
 * Options: RUNS (default 7), SKIP_1GB=1.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = path.resolve(__dirname, "../../..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-bench-proxy-"));
const RUNS = Number(process.env.RUNS ?? "7");
const benchEnv: Record<string, string> = {
  GANTRY_DATA_DIR: scratch,
  DATABASE_URL: `file:${path.join(scratch, "bench.db")}`,
  AUTH_SECRET: "bench-secret-0123456789abcdefghijklmnop",
  GANTRY_ALLOWED_PRIVATE_HOSTS: "127.0.0.1/32",
  GANTRY_LOG_LEVEL: "error",
};
Object.assign(process.env, benchEnv);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const rssKb = (pid: number, field: "VmRSS" | "VmHWM") => Number(/(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(field)) ?? "")?.[1] ?? 0);

async function timed(fn: () => Promise<unknown>) {
  const s = performance.now();
  await fn();
  return (performance.now() - s) / 1000;
}

async function main() {
  await run(path.join(root, "node_modules", ".bin", "prisma"), ["migrate", "deploy"], { cwd: root, env: process.env });
  const { startRegistry, stopAll } = await import("@/lib/testing/registries/harness");
  const { buildImage, pushImage, cleanupImages } = await import("@/lib/testing/registries/images");
  const { freePort, waitForHttp } = await import("@/lib/testing/registries/ports");
  const { signUp } = await import("@/lib/auth/sign-up");
  const { teamContextForUser } = await import("@/lib/teams/access");
  const { createApp } = await import("@/lib/apps/apps");
  const { createRegistry } = await import("@/lib/registries/registries");
  const { createCustomer } = await import("@/lib/licenses/customers");
  const { setExtraPatterns } = await import("@/lib/releases/scope");

  const upstream = await startRegistry({ auth: "token", users: { bob: "bob-pw" } });
  console.log("building and pushing the ~200 MB image…");
  await pushImage(await buildImage({ randomBytes: 200 * 1024 * 1024, files: { "b.txt": "bench\n" } }), { registry: upstream, repo: "private/big", tag: "1", creds: "bob:bob-pw" });
  await pushImage(await buildImage({ files: { "s.txt": "small\n" } }), { registry: upstream, repo: "private/small", tag: "1", creds: "bob:bob-pw" });

  const { user, team } = await signUp({ email: "bench@example.com", password: "correct horse battery", teamName: "Bench" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Bench", slug: "bench" });
  // Every repository of the upstream is in the app's scope (releases and patterns, lib/releases/scope.ts).
  await setExtraPatterns(ctx, "bench", ["**"]);
  const reg = await createRegistry(ctx, { name: "Upstream", endpoint: upstream.url, username: "bob", password: "bob-pw" });
  const license = (await createCustomer(ctx, "bench", { name: "Bench customer" })).license.licenseId;

  const gantryPort = await freePort();
  const gantry = spawn("npx", ["tsx", "--require", "./lib/ops/server-only-shim.cjs", "lib/ops/bench/proxy-server.ts"], {
    cwd: root,
    env: { ...process.env, PORT: String(gantryPort) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve) => gantry.stdout?.on("data", (d: Buffer) => d.toString().includes("ready") && resolve()));
  // npx → node: find the node process that listens
  const pid = Number((await run("sh", ["-c", `ss -Htlnp 'sport = :${gantryPort}' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2`])).stdout.trim());

  // Copies land in RAM when /dev/shm exists, so disk writes do not drown the network path in noise.
  const sink = fs.existsSync("/dev/shm") ? fs.mkdtempSync("/dev/shm/gantry-bench-") : scratch;
  const copy = async (src: string, creds: string) => {
    const dest = fs.mkdtempSync(path.join(sink, "copy-"));
    await run("skopeo", ["copy", "--src-tls-verify=false", "--src-creds", creds, src, `oci:${dest}/img:1`], { maxBuffer: 64 * 1024 * 1024 });
    fs.rmSync(dest, { recursive: true, force: true });
  };
  const gantryRef = `docker://127.0.0.1:${gantryPort}/proxy/bench/${reg.pathName}/private/big:1`;
  const startAnchor = async () => {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(scratch, "anchor-"));
    const config = path.join(dir, "config.yml");
    fs.writeFileSync(config, `version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: ${dir}/storage } }\nhttp: { addr: 127.0.0.1:${port} }\nproxy: { remoteurl: ${upstream.url}, username: bob, password: bob-pw }\n`);
    const child = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
    await waitForHttp(`http://127.0.0.1:${port}/v2/`);
    return { port, stop: () => new Promise<void>((r) => (child.once("exit", () => r()), child.kill("SIGTERM"))) };
  };

  const times = { direct: [] as number[], gantry: [] as number[], anchor: [] as number[] };
  await copy(gantryRef, `LICENSE_ID:${license}`); // warm-up
  const rssBefore = rssKb(pid, "VmRSS");
  for (let i = 0; i < RUNS; i++) {
    times.direct.push(await timed(() => copy(`docker://${upstream.host}/private/big:1`, "bob:bob-pw")));
    times.gantry.push(await timed(() => copy(gantryRef, `LICENSE_ID:${license}`)));
    const anchor = await startAnchor();
    times.anchor.push(await timed(() => copy(`docker://127.0.0.1:${anchor.port}/private/big:1`, "x:y")));
    await anchor.stop();
  }
  const peak200 = rssKb(pid, "VmHWM");

  const m = { direct: median(times.direct), gantry: median(times.gantry), anchor: median(times.anchor) };
  console.log(`\n~200 MB image, skopeo copy, medians of ${RUNS} alternating runs`);
  console.log(`direct from upstream         ${m.direct.toFixed(2)} s   [${times.direct.map((t) => t.toFixed(2)).join(", ")}]`);
  console.log(`through Gantry               ${m.gantry.toFixed(2)} s   ×${(m.gantry / m.direct).toFixed(2)} of direct   [${times.gantry.map((t) => t.toFixed(2)).join(", ")}]`);
  console.log(`distribution proxy, cold     ${m.anchor.toFixed(2)} s   ×${(m.anchor / m.direct).toFixed(2)} of direct   [${times.anchor.map((t) => t.toFixed(2)).join(", ")}]`);
  console.log(`Gantry / distribution proxy  ×${(m.gantry / m.anchor).toFixed(2)}`);
  console.log(`Gantry RSS: ${(rssBefore / 1024).toFixed(0)} MB before, peak ${(peak200 / 1024).toFixed(0)} MB`);

  if (process.env.SKIP_1GB !== "1") {
    console.log("\nbuilding and pushing a 1 GB layer…");
    await pushImage(await buildImage({ randomBytes: 1024 * 1024 * 1024, files: { "g.txt": "gig\n" } }), { registry: upstream, repo: "private/gig", tag: "1", creds: "bob:bob-pw" });
    const base = rssKb(pid, "VmRSS");
    const t = await timed(() => copy(`docker://127.0.0.1:${gantryPort}/proxy/bench/${reg.pathName}/private/gig:1`, `LICENSE_ID:${license}`));
    const peak = rssKb(pid, "VmHWM");
    console.log(`1 GB blob through Gantry in ${t.toFixed(2)} s; RSS ${(base / 1024).toFixed(0)} MB before, peak ${(peak / 1024).toFixed(0)} MB: growth ${((peak - base) / 1024).toFixed(0)} MB (target ≤ 100 MB)`);
  }

  const small = `docker://127.0.0.1:${gantryPort}/proxy/bench/${reg.pathName}/private/small:1`;
  const results = await Promise.allSettled(Array.from({ length: 32 }, () => copy(small, `LICENSE_ID:${license}`)));
  const failed = results.filter((r) => r.status === "rejected");
  console.log(`\n32 concurrent pulls of the small image: ${32 - failed.length} ok, ${failed.length} failed`);
  if (failed[0]?.status === "rejected") console.log(String(failed[0].reason).slice(0, 400));

  gantry.kill("SIGTERM");
  await run("sh", ["-c", `kill ${pid} 2>/dev/null || true`]);
  await stopAll();
  cleanupImages();
  fs.rmSync(scratch, { recursive: true, force: true });
  if (sink !== scratch) fs.rmSync(sink, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
