/**
 * `npm run bench:proxy`: pull-through performance of Gantry's registry proxy
 * and its cache (issue 11), against a remote-looking upstream.
 *
 * Set-up. The upstream (distribution, Bearer-token auth) runs in its own
 * network namespace behind a veth pair shaped with `tc … tbf` in both
 * directions (LINK_MBIT, default 400 Mbit/s; these machines have tbf, not
 * netem): a customer's pull crosses the internet, a loopback upstream would
 * answer at memory speed. Its token server listens on the host end of the
 * link. Gantry (lib/proxy's handler on node:http, bench/proxy-server.ts) and
 * distribution's own proxy mode (the anchor) run on loopback, where the
 * client (skopeo, wrk, curl) reaches them. Without root or namespaces it
 * falls back to loopback and says so. Namespace, veth, qdiscs, processes and
 * temp dirs are removed on exit, failure and SIGINT/SIGTERM.
 *
 * Measurements, in one run:
 * 1. A ~200 MB image pulled with `skopeo copy`, RUNS alternating rounds of
 *    direct · Gantry cold · Gantry warm · distribution proxy cold · warm.
 *    Cold = Gantry restarted on an empty GANTRY_CACHE_DIR (and no cache rows),
 *    distribution on fresh storage; warm = the next pull from the same process.
 * 2. wrk (16 connections): manifest GET by digest and by tag, upstream direct
 *    and through a warm Gantry, each with a Bearer token from its token server.
 * 3. 32 concurrent cold pulls of the image: upstream blob GETs per digest
 *    (the upstream's request log), the 32 copies compared file by file; then
 *    the same 32 pulls warm, the clients' own cost on this machine.
 * 4. Gantry's VmRSS while 8 clients stream a 1 GB blob at once (cold: the
 *    blob comes from the upstream over the link).
 * 5. Upstream stopped: every cached image pulled through Gantry by tag and by digest.
 * 6. The connection sweep (sweep.ts, run while Gantry is warm after 2.):
 *    manifest GET by digest at 16, 64 and 200 connections, distribution direct
 *    and Gantry side by side, with Gantry's event-loop delay, GC, CPU and
 *    accept spread per run.
 * Then a table with medians and ratios, and PASS/MISS per target of the issue.
 *
 * Options: RUNS (default 5), SKIP_1GB=1, LINK_MBIT (400), IMAGE_MB (200),
 * WRK_SECONDS (10), CACHE_MAX_BYTES (8GiB), QUICK=1 (a smoke run: 16 MB
 * image, RUNS=1, 3 s wrk, no 1 GB stream), GANTRY_SERVER=full (the production
 * server with the portal, lib/server/main.ts, after `npm run build`, instead
 * of its HTTP server without the portal), NO_NETNS=1 (force the loopback fallback),
 * SWEEP=only (the connection sweep alone: a small image, no pulls, ~2 min),
 * SWEEP=0 (no sweep), SWEEP_SECONDS (8; QUICK 3), SWEEP_ROUNDS (3; QUICK 1),
 * SWEEP_CONNECTIONS (16,64,200), SWEEP_BASELINE=<commit> (that commit's Gantry
 * in the sweep too, alternating with this one: before/after in one run),
 * GANTRY_NODE_ARGS (node flags for Gantry, e.g. --cpu-prof).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startGantry, rssBytes, type GantryProcess, type GantryServerKind } from "./gantry-process";
import { createLink, type Link } from "./netns";
import { bearerToken, blobGets, children, exec, hashTree, layoutBlobs, pull, settled, timedPull } from "./pulls";
import { atLeast, atMost, check, mb, printTable, printVerdicts, summarize, type Verdict } from "./stats";
import { ensureWrk, wrk, type WrkResult } from "./wrk";
import { atExit } from "./cleanups";
import { prepareBaseline, startBaselineGantry } from "./baseline";
import { countSettled, printSweep, runSweep, SWEEP_CONNECTIONS, type SweepVariant } from "./sweep";

const QUICK = process.env.QUICK === "1";
const RUNS = Number(process.env.RUNS ?? (QUICK ? "1" : "5"));
const SKIP_1GB = QUICK || process.env.SKIP_1GB === "1" || process.env.SWEEP === "only";
const LINK_MBIT = Number(process.env.LINK_MBIT ?? "400");
const IMAGE_MB = Number(process.env.IMAGE_MB ?? (QUICK ? "16" : "200"));
const WRK_SECONDS = Number(process.env.WRK_SECONDS ?? (QUICK ? "3" : "10"));
const CACHE_MAX_BYTES = process.env.CACHE_MAX_BYTES ?? "8GiB";
const GANTRY_SERVER: GantryServerKind = process.env.GANTRY_SERVER === "full" ? "full" : "proxy";
const SWEEP = process.env.SWEEP ?? "1";
const SWEEP_ONLY = SWEEP === "only";
const SWEEP_SECONDS = Number(process.env.SWEEP_SECONDS ?? (QUICK ? "3" : "8"));
const SWEEP_ROUNDS = Number(process.env.SWEEP_ROUNDS ?? (QUICK ? "1" : "3"));
const SWEEP_BASELINE = process.env.SWEEP_BASELINE;
const CONCURRENT_PULLS = 32;
const STREAMS = 8;

const root = path.resolve(__dirname, "../../..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-bench-proxy-"));
// Copies land in RAM when /dev/shm exists, so disk writes do not drown the network path in noise.
const sink = fs.existsSync("/dev/shm") ? fs.mkdtempSync("/dev/shm/gantry-bench-") : scratch;

atExit(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
  if (sink !== scratch) fs.rmSync(sink, { recursive: true, force: true });
});
atExit(() => {
  for (const c of children) c.kill("SIGKILL");
});

const fmt = (s: number) => `${s.toFixed(2)} s`;
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function main() {
  const started = Date.now();
  for (const tool of ["skopeo", "docker-registry", "umoci", "curl"]) await exec("sh", ["-c", `command -v ${tool}`]).catch(() => Promise.reject(new Error(`${tool} is missing: bash lib/ops/install-test-packages.sh`)));
  ensureWrk();

  let link: Link | undefined;
  try {
    if (process.env.NO_NETNS === "1") throw new Error("NO_NETNS=1");
    link = createLink();
    atExit(link.remove);
  } catch (e) {
    console.log(`!! network namespaces unavailable (${errText(e).split("\n")[0]}): FALLING BACK TO LOOPBACK.`);
    console.log("!! The upstream then answers at memory speed: cold/direct ratios do not show a customer's link.");
  }
  const allowed = ["127.0.0.1/32", ...(link ? [`${link.nsIp}/32`, `${link.hostIp}/32`] : [])];
  const gantryEnv: Record<string, string> = {
    GANTRY_DATA_DIR: scratch,
    DATABASE_URL: `file:${path.join(scratch, "bench.db")}`,
    AUTH_SECRET: "bench-secret-0123456789abcdefghijklmnop",
    GANTRY_ALLOWED_PRIVATE_HOSTS: allowed.join(","),
    // The upstream's token realm is on the host end of the link, another host than the registry's.
    GANTRY_TRUSTED_REALM_HOSTS: link ? link.hostIp : "",
    GANTRY_CACHE_MAX_BYTES: CACHE_MAX_BYTES,
    GANTRY_LOG_LEVEL: "error",
  };
  Object.assign(process.env, gantryEnv);
  await exec(path.join(root, "node_modules", ".bin", "prisma"), ["migrate", "deploy"]);

  const { startRegistry, stopAll } = await import("@/lib/testing/registries/harness");
  const { buildImage, pushImage, cleanupImages } = await import("@/lib/testing/registries/images");
  const { freePort, waitForHttp } = await import("@/lib/testing/registries/ports");
  const { signUp } = await import("@/lib/auth/sign-up");
  const { teamContextForUser } = await import("@/lib/teams/access");
  const { createApp } = await import("@/lib/apps/apps");
  const { createRegistry } = await import("@/lib/registries/registries");
  const { createCustomer } = await import("@/lib/licenses/customers");
  const { setExtraPatterns } = await import("@/lib/releases/scope");
  const { MANIFEST_ACCEPT } = await import("@/lib/registry-client/media-types");
  const { db } = await import("@/lib/db");
  atExit(cleanupImages);

  // The portal side, seeded through the app's own functions, as a vendor would set it up.
  let reg = { pathName: "" };
  let licenseCreds = "";
  const seed = async () => {
    const { user, team } = await signUp({ email: "bench@example.com", password: "correct horse battery", teamName: "Bench" });
    const ctx = await teamContextForUser(user, team.slug, "team:view");
    await createApp(ctx, { name: "Bench", slug: "bench" });
    await setExtraPatterns(ctx, "bench", ["**"]); // every upstream repository is in the app's scope
    reg = await createRegistry(ctx, { name: "Upstream", endpoint: upstream.url, username: "bob", password: "bob-pw" });
    licenseCreds = `LICENSE_ID:${(await createCustomer(ctx, "bench", { name: "Bench customer" })).license.licenseId}`;
  };
  const upstream = await startRegistry({ auth: "token", users: { bob: "bob-pw" }, ...(link ? { netns: link.netns, listenHost: link.nsIp, realmHost: link.hostIp } : {}) });
  atExit(() => {
    const pid = upstream.pid();
    if (pid) process.kill(pid, "SIGKILL");
    fs.rmSync(upstream.dir, { recursive: true, force: true });
  });
  const tokenServer = upstream.tokenServer!;

  const smallImage = await buildImage({ files: { "s.txt": "small\n" } });
  const small = { repo: "private/small", tag: "1", ...(await pushImage(smallImage, { registry: upstream, repo: "private/small", tag: "1", creds: "bob:bob-pw" })) };
  /** The sweep (sweep.ts): the small image's manifest by digest, warm: distribution direct, [SWEEP_BASELINE's Gantry], this Gantry. */
  const sweep = async () => {
    const headers = { accept: MANIFEST_ACCEPT };
    const manifestPath = (repo: string) => `/v2/${repo}/manifests/${small.digest}`;
    const gantryToken = (host: string) => bearerToken(`http://${host}/v2/token`, host, `repository:${proxiedName(small.repo)}:pull`, licenseCreds);
    const variants: SweepVariant[] = [
      { name: "distribution", url: `${upstream.url}${manifestPath(small.repo)}`, headers: { ...headers, authorization: `Bearer ${await bearerToken(tokenServer.realm, tokenServer.service, `repository:${small.repo}:pull`, "bob:bob-pw")}` } },
    ];
    const warm = async (host: string) => fs.rmSync(await pull(`docker://${host}/${proxiedName(small.repo)}:${small.tag}`, licenseCreds, sink), { recursive: true });
    const baseline = SWEEP_BASELINE ? await startBaselineGantry({ ...prepareBaseline(SWEEP_BASELINE, root, scratch), port: await freePort(), env: gantryEnv, path: manifestPath(proxiedName(small.repo)), headers, token: gantryToken, warm }) : undefined;
    if (baseline) variants.push(baseline);
    variants.push({ name: "Gantry", url: `${gantryApi(small.repo)}/manifests/${small.digest}`, headers: { ...headers, authorization: `Bearer ${await gantryToken(gantryHost)}` }, loopStats: async () => (await gantry?.loopStats()) ?? null });
    console.log(`connection sweep: ${SWEEP_ROUNDS} round(s) of ${SWEEP_SECONDS} s per variant (${variants.map((v) => v.name).join(", ")}) at ${SWEEP_CONNECTIONS.join(", ")} connections…`);
    const runs = await runSweep({ variants, seconds: SWEEP_SECONDS, rounds: SWEEP_ROUNDS, settle: () => countSettled(() => db.pullEvent.count()) });
    await baseline?.stop();
    return { runs, variants };
  };
  const gantryPort = await freePort();
  const gantryHost = `127.0.0.1:${gantryPort}`;
  /** The name a customer pulls an upstream repository by, and the matching API path and pull reference. */
  const proxiedName = (repo: string) => `proxy/bench/${reg.pathName}/${repo}`;
  const gantryApi = (repo: string) => `http://${gantryHost}/v2/${proxiedName(repo)}`;
  const viaGantry = (repo: string) => `${gantryHost}/${proxiedName(repo)}`;
  let gantry: GantryProcess | undefined;
  atExit(() => gantry?.kill());
  let cacheDirs = 0;
  /** (Re)starts Gantry on an empty cache: a new GANTRY_CACHE_DIR and no cache rows, then primes it with the small image. */
  const coldGantry = async () => {
    await gantry?.stop();
    await db.cacheLink.deleteMany({});
    await db.cacheTag.deleteMany({});
    const dir = path.join(scratch, `cache-${++cacheDirs}`);
    fs.rmSync(path.join(scratch, `cache-${cacheDirs - 1}`), { recursive: true, force: true });
    gantry = await startGantry({ port: gantryPort, server: GANTRY_SERVER, env: { ...gantryEnv, GANTRY_CACHE_DIR: dir } });
    // Loads every module of the pull path (token, manifest, blob) without touching the big image.
    fs.rmSync(await pull(`docker://${viaGantry(small.repo)}:${small.tag}`, licenseCreds, sink), { recursive: true });
    return gantry;
  };
  if (SWEEP_ONLY) {
    if (link) link.shape(LINK_MBIT);
    await seed();
    await coldGantry();
    const { runs, variants } = await sweep();
    await gantry?.stop();
    await stopAll();
    console.log(`\n=== bench:proxy SWEEP=only — ${new Date().toISOString()}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}, ${((Date.now() - started) / 60000).toFixed(1)} min; ${link ? `distribution in netns ${link.netns} behind a ${LINK_MBIT} Mbit/s tbf link` : "LOOPBACK FALLBACK"}`);
    const verdicts = printSweep(runs, variants, { seconds: SWEEP_SECONDS, rounds: SWEEP_ROUNDS });
    console.log("\ntargets");
    return printVerdicts(verdicts);
  }
  console.log(`building and pushing the ${IMAGE_MB} MB image${SKIP_1GB ? "" : " and the 1 GB one"}${link ? " (before the link is shaped)" : ""}…`);
  const bigImage = await buildImage({ randomBytes: IMAGE_MB * 2 ** 20, files: { "b.txt": "bench\n" } });
  const big = { repo: "private/big", tag: "1", ...(await pushImage(bigImage, { registry: upstream, repo: "private/big", tag: "1", creds: "bob:bob-pw" })), blobs: layoutBlobs(bigImage.layoutDir) };
  let gigLayer: { digest: string; size: number } | undefined;
  if (!SKIP_1GB) {
    const gigImage = await buildImage({ randomBytes: 2 ** 30, files: { "g.txt": "gig\n" } });
    await pushImage(gigImage, { registry: upstream, repo: "private/gig", tag: "1", creds: "bob:bob-pw" });
    gigLayer = layoutBlobs(gigImage.layoutDir).layers.sort((a, b) => b.size - a.size)[0];
  }
  if (link) link.shape(LINK_MBIT);
  await seed();

  /** distribution in proxy mode on fresh storage, in front of the same upstream (with bob's credentials). */
  const distProxy = async () => {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(scratch, "dist-proxy-"));
    const config = path.join(dir, "config.yml");
    fs.writeFileSync(config, `version: 0.1\nlog: { level: error, accesslog: { disabled: true } }\nstorage: { filesystem: { rootdirectory: ${dir}/storage } }\nhttp: { addr: 127.0.0.1:${port} }\nproxy: { remoteurl: ${upstream.url}, username: bob, password: bob-pw }\n`);
    const child = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
    children.add(child);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    await waitForHttp(`http://127.0.0.1:${port}/v2/`);
    return {
      ref: `docker://127.0.0.1:${port}/${big.repo}:${big.tag}`,
      stop: async () => {
        child.kill("SIGTERM");
        await exited;
        children.delete(child);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  };

  const refs = { direct: `docker://${upstream.host}/${big.repo}:${big.tag}`, gantry: `docker://${viaGantry(big.repo)}:${big.tag}` };
  console.log(`warming up (one direct pull, Gantry start)…`);
  await timedPull(refs.direct, "bob:bob-pw", sink);

  // 1. Alternating rounds.
  const times = { direct: [] as number[], gantryCold: [] as number[], gantryWarm: [] as number[], distCold: [] as number[], distWarm: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    times.direct.push(await timedPull(refs.direct, "bob:bob-pw", sink));
    await coldGantry();
    times.gantryCold.push(await timedPull(refs.gantry, licenseCreds, sink));
    times.gantryWarm.push(await timedPull(refs.gantry, licenseCreds, sink));
    const dist = await distProxy();
    times.distCold.push(await timedPull(dist.ref, "x:y", sink));
    times.distWarm.push(await timedPull(dist.ref, "x:y", sink));
    await dist.stop();
    console.log(`  round ${i + 1}/${RUNS}: ${Object.entries(times).map(([k, v]) => `${k} ${v.at(-1)!.toFixed(2)}`).join(" · ")}`);
  }

  // 2. The hot path: manifest GETs, Gantry warm (the last round's big image is cached, if the cache works).
  console.log(`wrk: 16 connections, ${WRK_SECONDS} s each…`);
  const upstreamToken = await bearerToken(tokenServer.realm, tokenServer.service, `repository:${big.repo}:pull`, "bob:bob-pw");
  const gantryToken = await bearerToken(`http://${gantryHost}/v2/token`, gantryHost, `repository:${proxiedName(big.repo)}:pull`, licenseCreds);
  const accept = MANIFEST_ACCEPT;
  const hot: [string, string, string][] = [
    ["upstream direct, by digest", `${upstream.url}/v2/${big.repo}/manifests/${big.digest}`, upstreamToken],
    ["Gantry warm, by digest", `${gantryApi(big.repo)}/manifests/${big.digest}`, gantryToken],
    ["upstream direct, by tag", `${upstream.url}/v2/${big.repo}/manifests/${big.tag}`, upstreamToken],
    ["Gantry warm, by tag", `${gantryApi(big.repo)}/manifests/${big.tag}`, gantryToken],
  ];
  const wrkResults = new Map<string, WrkResult>();
  for (const [name, url, token] of hot) {
    const headers = { authorization: `Bearer ${token}`, accept };
    await wrk(url, headers, { connections: 16, seconds: 1 }); // warm-up (JIT, connection pools), not counted
    wrkResults.set(name, await wrk(url, headers, { connections: 16, seconds: WRK_SECONDS }));
  }
  // 6. The connection sweep, while this Gantry is warm (run here; reported after 5).
  const sweepRuns = SWEEP === "0" ? null : await sweep();
  upstream.clearRequests(); // tens of thousands of manifest GETs: not needed any more

  // 3. Concurrent cold pulls.
  console.log(`${CONCURRENT_PULLS} concurrent cold pulls through Gantry…`);
  await coldGantry();
  await settled(upstream);
  upstream.clearRequests();
  const t0 = performance.now();
  const copies = await Promise.allSettled(Array.from({ length: CONCURRENT_PULLS }, () => pull(refs.gantry, licenseCreds, sink, 1_800_000)));
  const concurrentSeconds = (performance.now() - t0) / 1000;
  await settled(upstream);
  const gets = blobGets(upstream, big.repo);
  const okCopies = copies.flatMap((c) => (c.status === "fulfilled" ? [c.value] : []));
  const failures = copies.flatMap((c) => (c.status === "rejected" ? [errText(c.reason)] : []));
  let identical = okCopies.length > 0;
  let reference: Map<string, string> | undefined;
  for (const dir of okCopies) {
    const tree = await hashTree(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    reference ??= tree;
    if (tree.size !== reference.size || [...tree].some(([f, h]) => reference!.get(f) !== h)) identical = false;
  }
  const expectedBlobs = [big.blobs.config, ...big.blobs.layers.map((l) => l.digest)];
  // The same 32 pulls again with the cache warm: what 32 clients cost on this machine when
  // nothing is fetched (skopeo writes and hashes every copy), the floor under the cold figure.
  const w0 = performance.now();
  const warmCopies = await Promise.allSettled(Array.from({ length: CONCURRENT_PULLS }, () => pull(refs.gantry, licenseCreds, sink, 1_800_000)));
  const concurrentWarmSeconds = (performance.now() - w0) / 1000;
  for (const c of warmCopies) if (c.status === "fulfilled") fs.rmSync(c.value, { recursive: true, force: true });

  // 4. RSS while 8 clients stream the 1 GB blob at once, cold (each byte from the upstream over the link).
  let rss: { baseline: number; peak: number; seconds: number; ok: number; detail: string } | undefined;
  if (gigLayer) {
    console.log(`${STREAMS} clients streaming the 1 GB blob through a cold Gantry…`);
    const g = await coldGantry();
    const token = await bearerToken(`http://${gantryHost}/v2/token`, gantryHost, `repository:${proxiedName("private/gig")}:pull`, licenseCreds);
    const url = `${gantryApi("private/gig")}/blobs/${gigLayer.digest}`;
    const baseline = rssBytes(g.pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssBytes(g.pid));
    }, 50);
    const s0 = performance.now();
    const streams = await Promise.allSettled(
      Array.from({ length: STREAMS }, () => exec("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "-H", `Authorization: Bearer ${token}`, url], 1_800_000)),
    );
    clearInterval(sampler);
    peak = Math.max(peak, rssBytes(g.pid));
    const answers = streams.map((s) => (s.status === "fulfilled" ? s.value.stdout.trim() : `failed: ${errText(s.reason)}`));
    const ok = answers.filter((a) => a === `200 ${gigLayer!.size}`).length;
    rss = { baseline, peak, seconds: (performance.now() - s0) / 1000, ok, detail: [...new Set(answers)].join("; ") };
  }

  // 5. Upstream stopped: every image this Gantry has pulled (warmed again here), by tag and by digest.
  console.log("pulling every cached image with the upstream stopped…");
  const images = [big, small];
  for (const im of images) await timedPull(`docker://${viaGantry(im.repo)}:${im.tag}`, licenseCreds, sink);
  await upstream.stop();
  await tokenServer.stop();
  const offline: { ref: string; error?: string }[] = [];
  for (const im of images) {
    for (const ref of [`${viaGantry(im.repo)}:${im.tag}`, `${viaGantry(im.repo)}@${im.digest}`]) {
      try {
        fs.rmSync(await pull(`docker://${ref}`, licenseCreds, sink, 120_000), { recursive: true });
        offline.push({ ref });
      } catch (e) {
        offline.push({ ref, error: errText(e) });
      }
    }
  }
  await gantry?.stop();
  await stopAll();

  // Report.
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, summarize(v)])) as Record<keyof typeof times, ReturnType<typeof summarize>>;
  const direct = m.direct.median;
  console.log(`\n=== bench:proxy — ${new Date().toISOString()}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}, ${((Date.now() - started) / 60000).toFixed(1)} min`);
  console.log(link ? `link: upstream in netns ${link.netns} at ${link.nsIp}, veth shaped with tbf ${LINK_MBIT} Mbit/s each way; token realm on ${link.hostIp}; clients → Gantry on loopback` : "link: LOOPBACK FALLBACK (no network namespace): the upstream is not behind a shaped link");
  console.log(`image: ${IMAGE_MB} MB random layer (${big.blobs.layers.map((l) => mb(l.size)).join(" + ")} compressed), skopeo copy to ${sink.startsWith("/dev/shm") ? "/dev/shm" : "disk"}; Gantry = ${GANTRY_SERVER === "full" ? "lib/server/main.ts (production server)" : "lib/ops/bench/proxy-server.ts (the /v2/ handler alone)"}, cache max ${CACHE_MAX_BYTES}`);
  console.log(`\n1. pull times, ${RUNS} alternating rounds`);
  const label = { direct: link ? "direct over the link" : "direct (loopback)", gantryCold: "Gantry cold", gantryWarm: "Gantry warm", distCold: "distribution proxy cold", distWarm: "distribution proxy warm" };
  printTable([
    ["variant", "median", "min", "max", "× direct", "runs"],
    ...(Object.keys(times) as (keyof typeof times)[]).map((k) => [label[k], fmt(m[k].median), fmt(m[k].min), fmt(m[k].max), `×${(m[k].median / direct).toFixed(2)}`, times[k].map((t) => t.toFixed(2)).join(" ")]),
  ]);
  console.log(`\n2. manifest GETs, wrk -t2 -c16 -d${WRK_SECONDS}s`);
  printTable([
    ["target", "req/s", "mean", "p99", "requests", "errors"],
    ...[...wrkResults].map(([name, r]) => [name, r.requestsPerSecond.toFixed(0), `${r.meanLatency.toFixed(2)} ms`, `${r.p99Latency.toFixed(2)} ms`, String(r.requests), String(r.errors)]),
  ]);
  console.log(`\n3. ${CONCURRENT_PULLS} concurrent cold pulls through Gantry: ${fmt(concurrentSeconds)} (×${(concurrentSeconds / m.gantryCold.median).toFixed(2)} of one cold pull), ${okCopies.length} ok, ${failures.length} failed, copies ${identical ? "byte-identical" : "DIFFER"}`);
  for (const d of expectedBlobs) console.log(`   upstream GETs of ${d.slice(0, 19)}… ${d === big.blobs.config ? "(config)" : "(layer) "}: ${gets.get(d) ?? 0}`);
  console.log(`   the same 32 pulls with the cache warm (no upstream at all; the clients' own cost here): ${fmt(concurrentWarmSeconds)}, ${warmCopies.filter((c) => c.status === "fulfilled").length} ok; cold / warm ×${(concurrentSeconds / concurrentWarmSeconds).toFixed(2)}`);
  if (failures[0]) console.log(`   first failure: ${failures[0]}`);
  if (rss) console.log(`\n4. ${STREAMS} × 1 GB blob, cold (from the upstream over the link), ${fmt(rss.seconds)}: ${rss.ok}/${STREAMS} complete (${rss.detail}); Gantry RSS baseline ${mb(rss.baseline)}, peak ${mb(rss.peak)}, growth ${mb(rss.peak - rss.baseline)}`);
  else console.log("\n4. 1 GB streaming skipped (SKIP_1GB=1 or QUICK=1)");
  console.log(`\n5. upstream stopped: ${offline.filter((o) => !o.error).length}/${offline.length} pulls through Gantry succeeded`);
  for (const o of offline) console.log(`   ${o.error ? "FAIL" : "ok  "} ${o.ref.replace(gantryHost, "")}${o.error ? ` — ${o.error}` : ""}`);

  const sweepVerdicts = sweepRuns ? printSweep(sweepRuns.runs, sweepRuns.variants, { seconds: SWEEP_SECONDS, rounds: SWEEP_ROUNDS }) : [];
  const wr = (n: string) => wrkResults.get(n)!;
  const verdicts: Verdict[] = [
    atMost("Gantry cold ≤ ×1.05 of direct", m.gantryCold.median / direct, 1.05, "×"),
    atMost("Gantry warm ≤ ×0.25 of direct", m.gantryWarm.median / direct, 0.25, "×"),
    check(`${CONCURRENT_PULLS} cold pulls: one upstream GET per blob`, expectedBlobs.every((d) => gets.get(d) === 1), expectedBlobs.map((d) => `${d.slice(7, 15)}: ${gets.get(d) ?? 0}`).join(", ")),
    check(`${CONCURRENT_PULLS} cold pulls: all copies byte-identical`, identical && okCopies.length === CONCURRENT_PULLS, `${okCopies.length}/${CONCURRENT_PULLS} ok, ${identical ? "identical" : "differ"}`),
    atMost(`${CONCURRENT_PULLS} cold pulls ≤ ×1.2 of one cold pull`, concurrentSeconds / m.gantryCold.median, 1.2, "×"),
    check("upstream stopped: cached images pull by tag and digest", offline.every((o) => !o.error), `${offline.filter((o) => !o.error).length}/${offline.length}`),
    ...(rss ? [atMost(`RSS growth, ${STREAMS} × 1 GB streams (cold)`, (rss.peak - rss.baseline) / 2 ** 20, 100, " MB", 0), check(`${STREAMS} × 1 GB streams complete`, rss.ok === STREAMS, `${rss.ok}/${STREAMS}`)] : []),
    atLeast("wrk by digest: Gantry ≥ ×1.0 upstream req/s", wr("Gantry warm, by digest").requestsPerSecond / wr("upstream direct, by digest").requestsPerSecond, 1.0, "×"),
    atLeast("wrk by tag: Gantry ≥ ×0.5 upstream req/s", wr("Gantry warm, by tag").requestsPerSecond / wr("upstream direct, by tag").requestsPerSecond, 0.5, "×"),
    atMost("wrk by digest: Gantry p99 < 50 ms", wr("Gantry warm, by digest").p99Latency, 50, " ms"),
    atMost("wrk by tag: Gantry p99 < 50 ms", wr("Gantry warm, by tag").p99Latency, 50, " ms"),
    check("wrk: no errors", [...wrkResults.values()].every((r) => r.errors === 0 && r.requests > 0), [...wrkResults].map(([n, r]) => `${n}: ${r.errors}`).join(", ")),
    ...sweepVerdicts,
  ];
  console.log("\ntargets");
  printVerdicts(verdicts);
  console.log(`\ncontext: distribution proxy cold ×${(m.distCold.median / direct).toFixed(2)}, warm ×${(m.distWarm.median / direct).toFixed(2)} of direct; Gantry cold / distribution cold ×${(m.gantryCold.median / m.distCold.median).toFixed(2)}`);
}

main()
  .then(() => process.exit(0))
  .catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
