/**
 * `npm run bench:airgap`: an air-gap bundle's download speed and Gantry's
 * memory while it streams (issue 23), against `skopeo copy` of the same
 * images straight from the vendor's registry.
 *
 * Set-up. The vendor's private registry is distribution behind htpasswd
 * (lib/testing/registries/harness.ts) holding IMAGE_MB of images built
 * offline with umoci, random (incompressible) layers of IMAGE_MB/5 each:
 * three single-platform images and one multi-arch index (amd64 + arm64).
 * Gantry runs as a child process (airgap-server.ts: scratch data dir, cache
 * dir and SQLite database; a team, an app, that registry with the vendor's
 * credentials, a release naming the four images, a license), so its event
 * loop and RSS are its own. Before it says ready it warms the release
 * (warmRelease, what `gantry airgap warm` runs): every blob is in the proxy's
 * cache, and a download reads only the cache. It answers GET /bundle with
 * planBundle + bundleAnswer + writeAnswer, as lib/airgap/http.ts does. Everything (the
 * registry's storage, Gantry's cache and database, the built images, both
 * sides' output) is on /dev/shm when it exists (DISK=1: the temp dir), so
 * neither side waits on disk write-back.
 *
 * Rounds. A warm-up round (not counted), then RUNS rounds, each: the bundle
 * downloaded whole with `curl -o <file>` (a plain HTTP client writing the
 * response to a file), and the four images copied with `skopeo copy --all`
 * from the registry (the vendor's credentials) into one fresh OCI layout, one
 * image after the other as push.sh does, each skopeo with an empty blob-info
 * cache (skopeo.ts). Both outputs are in the same place. The order alternates
 * (bundle first on even rounds, skopeo first on odd ones) so drift hits both
 * alike. Times are wall times of the client processes; throughput is the
 * images' bytes (every blob: manifests, configs, layers; the same for both)
 * over that time.
 *
 * Memory. Before each download Gantry's peak RSS is reset (clear_refs 5) and
 * its VmRSS read; during it VmRSS is sampled every 50 ms; after it VmHWM is
 * read. Growth = max(VmHWM after, sampled peak) − VmRSS before; the verdict
 * takes the worst download, warm-up included.
 *
 * Checks. After the last round the last bundle is read with tar-stream:
 * every blob's sha256 must equal its file name, index.json must list the
 * release's digests, and the blobs (digests and sizes) must be those of
 * skopeo's layout. Every download's size must be its Content-Length, and the
 * registry must have sent (nearly) nothing while bundles streamed (/proc/<pid>/io
 * of distribution: the cache was warm).
 *
 * Options: IMAGE_MB (default 1024), RUNS (3), QUICK=1 (IMAGE_MB=100, RUNS=2),
 * DISK=1 (everything on disk instead of /dev/shm), GANTRY_NODE_ARGS (node
 * flags for Gantry, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). Processes
 * and temp dirs are removed on exit, failure and SIGINT/SIGTERM.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { layoutBlobSizes, readBundle, sameBlobs } from "./airgap-verify";
import { atExit, scratchDirs } from "./cleanups";
import { startGantry, type GantryProcess } from "./gantry-process";
import { cpuSeconds, io, resetPeakRss, statusKb } from "./procfs";
import { children, exec, timed } from "./pulls";
import { checkIsolation, isolatedSkopeoCopy, isolationTools } from "./skopeo";
import { atLeast, atMost, check, mb, printTable, printVerdicts, summarize, type Verdict } from "./stats";

const QUICK = process.env.QUICK === "1";
const RUNS = Number(process.env.RUNS ?? (QUICK ? "2" : "3"));
const IMAGE_MB = Number(process.env.IMAGE_MB ?? (QUICK ? "100" : "1024"));
const DISK = process.env.DISK === "1";
const RATIO_TARGET = 1.0;
const RSS_TARGET_MB = 64;
const CREDS = "alice:alice-pw";

const { fast } = scratchDirs("airgap", DISK);
// The registry's storage and the built images follow os.tmpdir(): in the same place as the rest.
process.env.TMPDIR = fast;

atExit(() => {
  for (const c of children) c.kill("SIGKILL");
});

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const MB = 2 ** 20;

interface Download {
  round: string;
  seconds: number;
  bytes: number;
  rssBefore: number;
  /** max(VmHWM after, sampled VmRSS peak) − VmRSS before. */
  growth: number;
  peakSampled: number;
  hwmAfter: number;
  /** VmRSS's parts (anonymous, file-backed, shared memory), after − before: what grew. */
  parts: { anon: number; file: number; shmem: number };
  /** CPU seconds of Gantry and of curl over the download. */
  cpu: { gantry: number; client: number };
  /** Bytes distribution wrote (sockets included) while the bundle streamed. */
  upstreamWritten: number;
}

interface Copy {
  round: string;
  seconds: number;
  bytes: number;
  /** CPU seconds of distribution and of the skopeo processes over the copies. */
  cpu: { upstream: number; client: number };
}

async function main() {
  const started = Date.now();
  const load0 = os.loadavg();
  for (const tool of ["skopeo", "docker-registry", "umoci", "curl", ...isolationTools]) {
    await exec("sh", ["-c", `command -v ${tool}`]).catch(() => Promise.reject(new Error(`${tool} is missing: bash lib/ops/install-test-packages.sh`)));
  }
  checkIsolation();

  const { startRegistry, stopAll } = await import("@/lib/testing/registries/harness");
  const { buildImage, buildMultiArchIndex, pushImage, cleanupImages } = await import("@/lib/testing/registries/images");
  const { freePort } = await import("@/lib/testing/registries/ports");
  atExit(cleanupImages);

  const layerBytes = Math.round((IMAGE_MB * MB) / 5);
  console.log(`building 3 images and a 2-platform index, 5 random layers of ${mb(layerBytes)}…`);
  const built = await Promise.all([
    ...[0, 1, 2].map((i) => buildImage({ randomBytes: layerBytes, files: { "i.txt": `image ${i}\n` } })),
    buildMultiArchIndex("multi", { randomBytes: layerBytes }),
  ]);
  const vendor = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
  atExit(() => {
    const pid = vendor.pid();
    if (pid) process.kill(pid, "SIGKILL");
  });
  const repos = ["acme/api", "acme/worker", "acme/jobs", "acme/multi"];
  for (const [i, image] of built.entries()) await pushImage(image, { registry: vendor, repo: repos[i]!, tag: "1.0.0", creds: CREDS, all: i === 3 });
  const vendorPid = vendor.pid();
  if (!vendorPid) throw new Error("the vendor registry has no pid");
  const refs = repos.map((r) => `${vendor.host}/${r}:1.0.0`);

  console.log("starting Gantry (child process, scratch database and cache) and warming the release…");
  const running: { gantry?: GantryProcess } = {};
  atExit(() => running.gantry?.kill());
  const gantry = await startGantry({
    port: await freePort(),
    server: "airgap",
    env: { BENCH_SCRATCH: fast, BENCH_UPSTREAM: vendor.url, BENCH_UPSTREAM_CREDS: CREDS, BENCH_IMAGES: refs.join(","), GANTRY_LOG_LEVEL: "error" },
    startTimeoutMs: 900_000,
  });
  running.gantry = gantry;
  const info = JSON.parse(gantry.readyLine) as { url: string; digests: Record<string, string>; warm: { blobs: number; bytes: number; seconds: number } };
  console.log(`  warm: ${info.warm.blobs} blobs, ${mb(info.warm.bytes)} in ${info.warm.seconds} s`);
  const head = await fetch(info.url, { method: "HEAD" });
  if (head.status !== 200) throw new Error(`HEAD /bundle answered ${head.status}`);
  const bundleSize = Number(head.headers.get("content-length"));

  const downloads: Download[] = [];
  const copies: Copy[] = [];
  const keep = { bundle: "", layout: "" };
  const last = String(RUNS - 1);

  const downloadBundle = async (round: string) => {
    const file = path.join(fast, `bundle-${round}.tar`);
    const pid = gantry.pid;
    const reset = resetPeakRss(pid);
    const rssBefore = statusKb(pid, "VmRSS");
    const hwmBefore = statusKb(pid, "VmHWM");
    const parts = () => ({ anon: statusKb(pid, "RssAnon"), file: statusKb(pid, "RssFile"), shmem: statusKb(pid, "RssShmem") });
    const parts0 = parts();
    let peakSampled = rssBefore;
    const sampler = setInterval(() => {
      peakSampled = Math.max(peakSampled, statusKb(pid, "VmRSS"));
    }, 50);
    const c0 = { gantry: cpuSeconds(pid), client: cpuSeconds("self", true) };
    const up0 = io(vendorPid).written;
    try {
      const { seconds } = await timed(() => exec("curl", ["-sS", "--fail", "-o", file, info.url], 1_800_000));
      const hwmAfter = statusKb(pid, "VmHWM");
      const parts1 = parts();
      const base = reset ? rssBefore : hwmBefore;
      const d: Download = {
        round,
        seconds,
        bytes: fs.statSync(file).size,
        rssBefore,
        growth: Math.max(hwmAfter, peakSampled) - base,
        peakSampled,
        hwmAfter,
        parts: { anon: parts1.anon - parts0.anon, file: parts1.file - parts0.file, shmem: parts1.shmem - parts0.shmem },
        cpu: { gantry: cpuSeconds(pid) - c0.gantry, client: cpuSeconds("self", true) - c0.client },
        upstreamWritten: io(vendorPid).written - up0,
      };
      downloads.push(d);
      return d;
    } finally {
      clearInterval(sampler);
      if (round === last) keep.bundle = file;
      else fs.rmSync(file, { force: true });
    }
  };

  const skopeoImages = async (round: string) => {
    const dest = fs.mkdtempSync(path.join(fast, "layout-"));
    const c0 = { upstream: cpuSeconds(vendorPid), client: cpuSeconds("self", true) };
    try {
      const { seconds } = await timed(async () => {
        for (const [i, ref] of refs.entries()) {
          await isolatedSkopeoCopy(["--quiet", "--all", "--src-tls-verify=false", "--src-creds", CREDS, `docker://${ref}`, `oci:${dest}:image-${i}`], fast);
        }
      });
      const bytes = [...layoutBlobSizes(dest).values()].reduce((n, s) => n + s, 0);
      const c: Copy = { round, seconds, bytes, cpu: { upstream: cpuSeconds(vendorPid) - c0.upstream, client: cpuSeconds("self", true) - c0.client } };
      copies.push(c);
      return c;
    } finally {
      if (round === last) keep.layout = dest;
      else fs.rmSync(dest, { recursive: true, force: true });
    }
  };

  const rounds = ["warm", ...Array.from({ length: RUNS }, (_, i) => String(i))];
  for (const round of rounds) {
    const skopeoFirst = round !== "warm" && Number(round) % 2 === 1;
    const line: string[] = [];
    const b = async () => {
      const d = await downloadBundle(round);
      line.push(`bundle ${d.seconds.toFixed(2)} s (RSS +${mb(d.growth)})`);
    };
    const s = async () => line.push(`skopeo ${(await skopeoImages(round)).seconds.toFixed(2)} s`);
    if (skopeoFirst) await s().then(b);
    else await b().then(s);
    console.log(`  ${round === "warm" ? "warm-up" : `round ${Number(round) + 1}/${RUNS}`}: ${line.join(" · ")}`);
  }

  console.log("checking the last bundle (tar-stream: every blob hashed)…");
  const contents = await readBundle(keep.bundle);
  const skopeoBlobs = layoutBlobSizes(keep.layout);
  const rssEnd = statusKb(gantry.pid, "VmRSS");
  await gantry.stop();
  await stopAll();
  const load1 = os.loadavg();

  // Report.
  const payload = [...skopeoBlobs.values()].reduce((n, s) => n + s, 0);
  const counted = { bundle: downloads.filter((d) => d.round !== "warm"), skopeo: copies.filter((c) => c.round !== "warm") };
  const stats = { bundle: summarize(counted.bundle.map((d) => d.seconds)), skopeo: summarize(counted.skopeo.map((c) => c.seconds)) };
  const mbps = (seconds: number) => payload / MB / seconds;
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const skopeoVersion = execFileSync("skopeo", ["--version"], { encoding: "utf8" }).trim();
  const curlVersion = execFileSync("curl", ["--version"], { encoding: "utf8" }).split(" ").slice(0, 2).join(" ");
  const where = fast.startsWith("/dev/shm") ? "/dev/shm" : "disk";
  console.log(`\n=== bench:airgap — ${new Date().toISOString()}, ${os.cpus().length} cores (${cpu}), ${((Date.now() - started) / 60000).toFixed(1)} min`);
  console.log(`load average before ${load0.map((l) => l.toFixed(2)).join(" ")}, after ${load1.map((l) => l.toFixed(2)).join(" ")}; node ${process.version}; ${skopeoVersion}; ${curlVersion}`);
  if (Math.max(load0[0]!, load1[0]!) > os.cpus().length) {
    console.log(`!! the 1-minute load (${Math.max(load0[0]!, load1[0]!).toFixed(1)}) exceeds the ${os.cpus().length} cores: other work competes for the CPU; expect spread between rounds.`);
  }
  console.log(`images: 3 single-platform + 1 index (amd64, arm64), ${contents.blobs.size} blobs, ${mb(payload)} (5 random layers of ${mb(layerBytes)}); bundle ${mb(bundleSize)} tar`);
  console.log(`bundle: curl -o <file> from lib/ops/bench/airgap-server.ts (planBundle + bundleAnswer + writeAnswer, warm cache); skopeo: copy --all of each image from distribution (htpasswd) into one OCI layout; both write to ${where}\n`);
  printTable([
    ["variant", "median", "min", "max", "MB/s (median)", "runs (s)", "MB/s per run"],
    ...(["bundle", "skopeo"] as const).map((v) => {
      const s = stats[v];
      const times = counted[v].map((x) => x.seconds);
      return [v === "bundle" ? "bundle (curl)" : "skopeo copy", `${s.median.toFixed(2)} s`, `${s.min.toFixed(2)} s`, `${s.max.toFixed(2)} s`, mbps(s.median).toFixed(0), times.map((t) => t.toFixed(2)).join(" "), times.map((t) => mbps(t).toFixed(0)).join(" ")];
    }),
  ]);
  const cpuMedian = (xs: number[]) => summarize(xs).median.toFixed(2);
  console.log(
    `\nCPU seconds (medians): bundle — Gantry ${cpuMedian(counted.bundle.map((d) => d.cpu.gantry))}, curl ${cpuMedian(counted.bundle.map((d) => d.cpu.client))}; ` +
      `skopeo — distribution ${cpuMedian(counted.skopeo.map((c) => c.cpu.upstream))}, skopeo ${cpuMedian(counted.skopeo.map((c) => c.cpu.client))}`,
  );
  console.log("\nGantry RSS per download (peak reset before each; growth = max(VmHWM after, 50 ms samples) − VmRSS before)");
  printTable([
    ["round", "VmRSS before", "sampled peak", "VmHWM after", "growth", "Δ anon / file / shmem at the end"],
    ...downloads.map((d) => [d.round, mb(d.rssBefore), mb(d.peakSampled), mb(d.hwmAfter), `${(d.growth / MB).toFixed(1)} MB`, [d.parts.anon, d.parts.file, d.parts.shmem].map((x) => (x / MB).toFixed(1)).join(" / ")]),
  ]);
  console.log(`VmRSS before the first download ${mb(downloads[0]!.rssBefore)}, at the end ${mb(rssEnd)} (the pull-log writer thread included: started before the first download)`);

  const ratio = stats.skopeo.median / stats.bundle.median;
  const worstGrowth = Math.max(...downloads.map((d) => d.growth));
  const maxUpstream = Math.max(...downloads.map((d) => d.upstreamWritten));
  const release = new Set(Object.values(info.digests));
  console.log(`\nbundle/skopeo throughput ×${ratio.toFixed(2)}`);
  const verdicts: Verdict[] = [
    atLeast("bundle throughput ≥ ×1.0 of skopeo's", ratio, RATIO_TARGET, "×"),
    atMost(`Gantry RSS growth while streaming ≤ ${RSS_TARGET_MB} MB`, worstGrowth / MB, RSS_TARGET_MB, " MB", 1),
    check("every bundle complete (size = Content-Length)", downloads.every((d) => d.bytes === bundleSize), `${downloads.filter((d) => d.bytes === bundleSize).length}/${downloads.length} of ${bundleSize} bytes`),
    check("every blob's sha256 equals its file name", contents.mismatched.length === 0 && contents.blobs.size > 0, `${contents.blobs.size - contents.mismatched.length}/${contents.blobs.size}${contents.mismatched.length ? `; wrong: ${contents.mismatched.slice(0, 3).join(", ")}` : ""}`),
    check("index.json lists the release's images", contents.indexDigests.length === release.size && contents.indexDigests.every((d) => release.has(d)), `${contents.indexDigests.length} listed, ${release.size} in the release`),
    check("the bundle's blobs are skopeo's (digests and sizes)", sameBlobs(contents.blobs, skopeoBlobs), `${contents.blobs.size} vs ${skopeoBlobs.size} blobs`),
    check("bundles streamed from the warm cache (registry sent < 1% of the images)", maxUpstream < payload / 100, `at most ${(maxUpstream / 1024).toFixed(0)} KB written by distribution per download`),
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
