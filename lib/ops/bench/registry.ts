/**
 * `npm run bench:registry`: push and pull speed of Gantry's own registry
 * (issue 13), against the same distribution reached directly.
 *
 * Set-up. Gantry's registry runs as a child process (registry-server.ts: the
 * hosted registry handler on node:http, its embedded distribution, a scratch
 * SQLite database seeded with a team, an app, an admin API token and a
 * license), so the bench's own work does not share its event loop and its RSS
 * is its own. The "direct" side is that same distribution on loopback, with a
 * token signed by the registry's own key (pull+push on direct/bench-*): both
 * sides end in the same storage engine, so the ratio is what Gantry's hop
 * (auth, records, streaming through undici) costs. The image: one ~IMAGE_MB
 * random layer built offline with umoci. Distribution's storage, the database
 * and the pulled copies live in /dev/shm when it exists (DISK=1: the temp
 * dir), so disk write-back does not drown the network path in noise.
 *
 * Rounds. A warm-up round (not counted), then RUNS rounds, each: push through
 * Gantry (API token) and direct (`--dest-registry-token`) to a repository new
 * to both (bench-<round>), then pull that image back through Gantry (the
 * license) and direct (`--src-registry-token`) into a fresh OCI layout,
 * deleted afterwards. The order alternates (Gantry first on even rounds,
 * direct first on odd ones) so drift hits both sides alike. Times are the
 * wall time of the `skopeo copy` process.
 *
 * Every push really uploads. skopeo (containers/image) remembers where it saw
 * each blob in its blob-info cache, for root /var/lib/containers/cache/
 * blob-info-cache-v1.boltdb, and on the next push to the same registry it
 * cross-repository-mounts the layer (POST ?mount=&from=) instead of sending
 * it: a 200 MB push would take milliseconds. skopeo 1.9 has no flag or
 * variable for the cache's location (containers/image reads SystemContext.
 * BlobInfoCacheDir, which skopeo never sets), and deleting the shared file
 * would disturb other users of skopeo on the machine, so as root each skopeo
 * runs in its own mount namespace (`unshare --mount`) with an empty temp dir
 * bind-mounted over /var/lib/containers/cache; not as root, XDG_DATA_HOME
 * points at an empty temp dir (where rootless skopeo keeps its cache). Both
 * sides pay the same ~10 ms for it. (Measured without it, 32 MB: the first
 * push 0.70 s, the second, to another repository, 0.12 s: a mount; skopeo 1.9
 * prints the same "Copying blob" line for both.) So at the end the bench
 * checks that each copy moved the layer: distribution's and Gantry's read
 * bytes (/proc/<pid>/io rchar, sockets included) grew by at least the layer
 * size during every push, their written bytes during every pull, and no
 * skopeo reported "skipped: already exists".
 *
 * Report: per variant median/min/max and MB/s, the ratios Gantry/direct for
 * push and pull against the target ≤ ×1.10 (PASS/MISS), CPU seconds per copy
 * of skopeo, distribution and Gantry (/proc/<pid>/stat: on a busy 2-core
 * machine wall time follows the total CPU a copy needs), Gantry's peak RSS
 * (VmHWM), machine context (cores, load average before and after: other
 * work on the machine shows up as spread between rounds).
 *
 * Options: RUNS (default 5), IMAGE_MB (200), QUICK=1 (16 MB image, RUNS=2),
 * DISK=1 (storage and copies on disk instead of /dev/shm). Processes and temp
 * dirs are removed on exit, failure and SIGINT/SIGTERM.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startGantry, rssBytes, type GantryProcess } from "./gantry-process";
import { children, exec, layoutBlobs } from "./pulls";
import { atMost, check, mb, printTable, printVerdicts, summarize, type Verdict } from "./stats";
import { atExit, scratchDirs } from "./cleanups";
import { cpuSeconds, io, statusKb } from "./procfs";
import { checkIsolation, isolatedSkopeoCopy, isolationTools } from "./skopeo";

const QUICK = process.env.QUICK === "1";
const RUNS = Number(process.env.RUNS ?? (QUICK ? "2" : "5"));
const IMAGE_MB = Number(process.env.IMAGE_MB ?? (QUICK ? "16" : "200"));
const DISK = process.env.DISK === "1";
const TARGET = 1.1;

const { fast } = scratchDirs("registry", DISK);

atExit(() => {
  for (const c of children) c.kill("SIGKILL");
});

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

type Variant = "gantry" | "direct";
type Op = "push" | "pull";
interface Sample {
  op: Op;
  variant: Variant;
  round: string;
  seconds: number;
  /** Deltas of /proc/<pid>/io over the copy. */
  dist: { read: number; written: number };
  gantry: { read: number; written: number };
  skipped: boolean;
  /** CPU seconds spent during the copy by Gantry, distribution and the client (skopeo, a waited-for child of the bench). */
  cpu: { gantry: number; dist: number; client: number };
}

async function main() {
  const started = Date.now();
  const load0 = os.loadavg();
  for (const tool of ["skopeo", "docker-registry", "umoci", ...isolationTools]) {
    await exec("sh", ["-c", `command -v ${tool}`]).catch(() => Promise.reject(new Error(`${tool} is missing: bash lib/ops/install-test-packages.sh`)));
  }
  checkIsolation();

  const { buildImage, cleanupImages } = await import("@/lib/testing/registries/images");
  const { freePort } = await import("@/lib/testing/registries/ports");
  atExit(cleanupImages);

  console.log(`building the ${IMAGE_MB} MB image…`);
  const image = await buildImage({ randomBytes: IMAGE_MB * 2 ** 20, files: { "b.txt": "bench\n" } });
  const blobs = layoutBlobs(image.layoutDir);
  const layerBytes = blobs.layers.reduce((n, l) => n + l.size, 0);
  const src = `oci:${image.layoutDir}:${image.tag}`;

  const rounds = ["warm", ...Array.from({ length: RUNS }, (_, i) => String(i))];
  const port = await freePort();
  console.log("starting Gantry's registry (child process, embedded distribution, scratch database)…");
  const running: { gantry?: GantryProcess; distPid?: number } = {};
  atExit(() => {
    running.gantry?.kill();
    if (running.distPid) {
      try {
        process.kill(running.distPid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
  const gantry = await startGantry({
    port,
    server: "registry",
    env: { BENCH_SCRATCH: fast, BENCH_DIRECT_REPOS: rounds.map((r) => `direct/bench-${r}`).join(","), GANTRY_LOG_LEVEL: "error" },
  });
  const info = JSON.parse(gantry.readyLine) as { host: string; storageOrigin: string; slug: string; adminToken: string; licenseId: string; directToken: string; distributionPid: number | null };
  running.gantry = gantry;
  const distPid = info.distributionPid;
  if (!distPid) throw new Error("registry-server did not find its distribution's pid");
  running.distPid = distPid;
  const gantryPid = gantry.pid;
  const storageHost = new URL(info.storageOrigin).host;
  const rssAtStart = rssBytes(gantryPid);

  const refs: Record<Variant, (round: string) => string> = {
    gantry: (r) => `docker://${info.host}/${info.slug}/bench-${r}:1`,
    direct: (r) => `docker://${storageHost}/direct/bench-${r}:1`,
  };
  const pushAuth: Record<Variant, string[]> = { gantry: ["--dest-creds", `${info.adminToken}:${info.adminToken}`], direct: ["--dest-registry-token", info.directToken] };
  const pullAuth: Record<Variant, string[]> = { gantry: ["--src-creds", `x:${info.licenseId}`], direct: ["--src-registry-token", info.directToken] };

  const samples: Sample[] = [];
  const measure = async (op: Op, variant: Variant, round: string) => {
    const dest = op === "pull" ? fs.mkdtempSync(path.join(fast, "copy-")) : "";
    const d0 = io(distPid);
    const g0 = io(gantryPid);
    const c0 = { gantry: cpuSeconds(gantryPid), dist: cpuSeconds(distPid), client: cpuSeconds("self", true) };
    const args =
      op === "push"
        ? ["--dest-tls-verify=false", ...pushAuth[variant], src, refs[variant](round)]
        : ["--src-tls-verify=false", ...pullAuth[variant], refs[variant](round), `oci:${dest}:img`];
    try {
      const { seconds, output } = await isolatedSkopeoCopy(args, fast);
      const d1 = io(distPid);
      const g1 = io(gantryPid);
      const sample: Sample = {
        op,
        variant,
        round,
        seconds,
        dist: { read: d1.read - d0.read, written: d1.written - d0.written },
        gantry: { read: g1.read - g0.read, written: g1.written - g0.written },
        skipped: /skipped/i.test(output),
        cpu: { gantry: cpuSeconds(gantryPid) - c0.gantry, dist: cpuSeconds(distPid) - c0.dist, client: cpuSeconds("self", true) - c0.client },
      };
      samples.push(sample);
      return sample;
    } finally {
      if (dest) fs.rmSync(dest, { recursive: true, force: true });
    }
  };

  for (const round of rounds) {
    // Alternate which side goes first; the warm-up runs both, not counted.
    const order: Variant[] = round !== "warm" && Number(round) % 2 === 1 ? ["direct", "gantry"] : ["gantry", "direct"];
    const line: string[] = [];
    for (const op of ["push", "pull"] as const) {
      for (const v of order) line.push(`${op} ${v} ${(await measure(op, v, round)).seconds.toFixed(2)}`);
    }
    console.log(`  ${round === "warm" ? "warm-up" : `round ${Number(round) + 1}/${RUNS}`}: ${line.join(" · ")}`);
    // A second after its first license pull Gantry starts its pull-log writer thread (tsx and
    // Prisma load: ~0.4 s of CPU, measured per thread); let that happen before round 1.
    if (round === "warm") await new Promise((r) => setTimeout(r, 2000));
  }
  const peakRss = statusKb(gantryPid, "VmHWM");
  const rssAtEnd = rssBytes(gantryPid);
  await gantry.stop();
  const load1 = os.loadavg();

  // Report.
  const counted = samples.filter((s) => s.round !== "warm");
  const pick = (op: Op, v: Variant) => counted.filter((s) => s.op === op && s.variant === v).map((s) => s.seconds);
  const stats = {
    push: { gantry: summarize(pick("push", "gantry")), direct: summarize(pick("push", "direct")) },
    pull: { gantry: summarize(pick("pull", "gantry")), direct: summarize(pick("pull", "direct")) },
  };
  const mbps = (seconds: number) => `${(layerBytes / 2 ** 20 / seconds).toFixed(0)} MB/s`;
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const skopeoVersion = execFileSync("skopeo", ["--version"], { encoding: "utf8" }).trim();
  console.log(`\n=== bench:registry — ${new Date().toISOString()}, ${os.cpus().length} cores (${cpu}), ${((Date.now() - started) / 60000).toFixed(1)} min`);
  console.log(`load average before ${load0.map((l) => l.toFixed(2)).join(" ")}, after ${load1.map((l) => l.toFixed(2)).join(" ")}; node ${process.version}; ${skopeoVersion}; distribution 2.8 embedded`);
  if (Math.max(load0[0]!, load1[0]!) > os.cpus().length) {
    console.log(`!! the 1-minute load (${Math.max(load0[0]!, load1[0]!).toFixed(1)}) exceeds the ${os.cpus().length} cores: other work competes for the CPU, so expect spread between rounds and a hop that costs CPU to weigh more than on an idle machine.`);
  }
  console.log(
    `image: ${IMAGE_MB} MB random layer (${blobs.layers.map((l) => mb(l.size)).join(" + ")} compressed); storage, database and pulled copies on ${fast.startsWith("/dev/shm") ? "/dev/shm" : "disk"}; each skopeo with an empty blob-info cache`,
  );
  console.log(`Gantry: lib/ops/bench/registry-server.ts (the hosted registry handler alone) on ${info.host}; direct: distribution at ${storageHost}\n`);
  printTable([
    ["variant", "median", "min", "max", "MB/s (median)", "runs"],
    ...(["push", "pull"] as const).flatMap((op) =>
      (["direct", "gantry"] as const).map((v) => {
        const s = stats[op][v];
        return [`${op} ${v === "gantry" ? "through Gantry" : "direct"}`, `${s.median.toFixed(2)} s`, `${s.min.toFixed(2)} s`, `${s.max.toFixed(2)} s`, mbps(s.median), pick(op, v).map((t) => t.toFixed(2)).join(" ")];
      }),
    ),
  ]);
  console.log("\nCPU seconds per copy (medians; /proc/<pid>/stat; skopeo = the bench's waited-for children)");
  const cpuMedian = (op: Op, v: Variant, who: keyof Sample["cpu"]) => summarize(counted.filter((s) => s.op === op && s.variant === v).map((s) => s.cpu[who])).median.toFixed(2);
  const cpuTotal = (op: Op, v: Variant) => summarize(counted.filter((s) => s.op === op && s.variant === v).map((s) => s.cpu.client + s.cpu.dist + (v === "gantry" ? s.cpu.gantry : 0))).median;
  printTable([
    ["variant", "skopeo", "distribution", "Gantry", "total"],
    ...(["push", "pull"] as const).flatMap((op) =>
      (["direct", "gantry"] as const).map((v) => [
        `${op} ${v === "gantry" ? "through Gantry" : "direct"}`,
        cpuMedian(op, v, "client"),
        cpuMedian(op, v, "dist"),
        v === "gantry" ? cpuMedian(op, v, "gantry") : "-",
        cpuTotal(op, v).toFixed(2),
      ]),
    ),
  ]);
  console.log(`total CPU Gantry/direct: push ×${(cpuTotal("push", "gantry") / cpuTotal("push", "direct")).toFixed(2)}, pull ×${(cpuTotal("pull", "gantry") / cpuTotal("pull", "direct")).toFixed(2)}`);
  const pushRatio = stats.push.gantry.median / stats.push.direct.median;
  const pullRatio = stats.pull.gantry.median / stats.pull.direct.median;
  console.log(`\nGantry/direct: push ×${pushRatio.toFixed(2)}, pull ×${pullRatio.toFixed(2)}`);
  console.log(`Gantry RSS: ${mb(rssAtStart)} after start, ${mb(rssAtEnd)} at the end, peak (VmHWM) ${mb(peakRss)}`);

  // Did every copy move the bytes? (A mounted or skipped blob moves a few KB, not the layer.)
  const moved = (s: Sample) =>
    s.op === "push"
      ? s.dist.read >= layerBytes && (s.variant === "direct" || (s.gantry.read >= layerBytes && s.gantry.written >= layerBytes))
      : s.variant === "direct"
        ? s.dist.written >= layerBytes
        : // Through Gantry the layer comes from distribution, or (embedded storage) from its files read by Gantry itself.
          s.gantry.written >= layerBytes && (s.dist.written >= layerBytes || s.gantry.read >= layerBytes);
  const minOf = (xs: number[]) => mb(Math.min(...xs));
  const pushes = samples.filter((s) => s.op === "push");
  const pulls = samples.filter((s) => s.op === "pull");
  console.log(
    `bytes per copy (/proc/<pid>/io, warm-up included): pushes — distribution read ≥ ${minOf(pushes.map((s) => s.dist.read))}, Gantry read ≥ ${minOf(pushes.filter((s) => s.variant === "gantry").map((s) => s.gantry.read))}; ` +
      `pulls — distribution wrote ≥ ${minOf(pulls.map((s) => s.dist.written))}, Gantry wrote ≥ ${minOf(pulls.filter((s) => s.variant === "gantry").map((s) => s.gantry.written))}; layer ${mb(layerBytes)}`,
  );

  const verdicts: Verdict[] = [
    atMost("push through Gantry ≤ ×1.10 of direct", pushRatio, TARGET, "×"),
    atMost("pull through Gantry ≤ ×1.10 of direct", pullRatio, TARGET, "×"),
    check("every push uploaded the layer (no mount, no skip)", pushes.every((s) => moved(s) && !s.skipped), `${pushes.filter((s) => moved(s) && !s.skipped).length}/${pushes.length}`),
    check("every pull downloaded the layer", pulls.every((s) => moved(s) && !s.skipped), `${pulls.filter((s) => moved(s) && !s.skipped).length}/${pulls.length}`),
  ];
  console.log("\ntargets");
  printVerdicts(verdicts);
}

main()
  .then(() => process.exit(0))
  .catch((e: unknown) => {
    console.error(errText(e));
    process.exit(1);
  });
