/**
 * `npm run bench:preview`: probes 100 distinct images spread over the three
 * real test registries (no auth, htpasswd, token auth), as the rewrite preview
 * does, and prints the wall time and upstream requests per image (counted in
 * the registries' and token server's own logs), then the same run with token
 * and challenge reuse turned off, as the baseline.
 */
import { clearChallengeCache } from "@/lib/registry-client/client";
import { TokenCache } from "@/lib/registry-client/token-cache";
import { probeImages, type TeamRegistry } from "@/lib/rewrite/probe";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";

const REPOS_PER_REGISTRY = 6;

async function main() {
  const [open, basic, token] = await Promise.all([
    startRegistry({ auth: "none" }),
    startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } }),
    startRegistry({ auth: "token", users: { bob: "bob-pw" } }),
  ]);
  const img = await buildImage({ files: { "bench.txt": "bench\n" } });
  const pushes: Promise<unknown>[] = [];
  for (let r = 0; r < REPOS_PER_REGISTRY; r++) {
    pushes.push(pushImage(img, { registry: open, repo: `acme/svc-${r}`, tag: "1.0" }));
    pushes.push(pushImage(img, { registry: basic, repo: `acme/svc-${r}`, tag: "1.0", creds: "alice:alice-pw" }));
    pushes.push(pushImage(img, { registry: token, repo: `${r % 2 ? "public" : "private"}/svc-${r}`, tag: "1.0", creds: "bob:bob-pw" }));
  }
  await Promise.all(pushes);

  // 100 distinct references: every repo with several tags (tags need not exist: a 404 is a probe too).
  const images: string[] = [];
  for (let i = 0; images.length < 100; i++) {
    const r = i % REPOS_PER_REGISTRY;
    const tag = `1.${Math.floor(i / REPOS_PER_REGISTRY)}`.replace("1.0", "1.0");
    images.push(`${open.host}/acme/svc-${r}:${tag}`);
    if (images.length < 100) images.push(`${basic.host}/acme/svc-${r}:${tag}`);
    if (images.length < 100) images.push(`${token.host}/${r % 2 ? "public" : "private"}/svc-${r}:${tag}`);
  }
  const registries: TeamRegistry[] = [token, basic].map((r, i) => ({ id: `r${i}`, name: r.kind, endpoint: r.url, apiHost: r.host, imageHost: r.host, pathName: r.host.replace(":", "_") }));
  const all: RunningRegistry[] = [open, basic, token];
  const upstreamRequests = async () => {
    await new Promise((r) => setTimeout(r, 300)); // let the registries write their last log lines
    return all.reduce((n, r) => n + r.requests().length + (r.tokenServer?.requests().length ?? 0), 0);
  };
  const reset = async () => {
    for (const r of all) {
      await r.flushRequests();
      r.tokenServer?.clearRequests();
    }
  };

  async function run(reuse: boolean) {
    clearChallengeCache();
    await reset();
    const started = performance.now();
    const results = await probeImages(images, {
      appSlug: "bench",
      proxyDomain: "gantry.bench:443",
      registryDomain: undefined,
      registries,
      allowedPrivateHosts: ["127.0.0.1/32"],
      tokenCache: new TokenCache(),
      reuseTokens: reuse,
      schemeFor: () => "http",
    });
    const wall = performance.now() - started;
    const counts: Record<string, number> = {};
    for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
    return { wall, requests: await upstreamRequests(), counts };
  }

  await run(true); // warm-up: connections, JIT
  const reuse = await run(true);
  const noReuse = await run(false);
  console.log(`images: ${images.length} distinct over 3 registries (${REPOS_PER_REGISTRY} repos each); statuses ${JSON.stringify(reuse.counts)}`);
  console.log(`with reuse      wall ${reuse.wall.toFixed(0)} ms   upstream requests ${reuse.requests} (${(reuse.requests / images.length).toFixed(2)} per image)`);
  console.log(`without reuse   wall ${noReuse.wall.toFixed(0)} ms   upstream requests ${noReuse.requests} (${(noReuse.requests / images.length).toFixed(2)} per image)`);
  console.log(`ratio           wall ×${(noReuse.wall / reuse.wall).toFixed(2)}   requests ×${(noReuse.requests / reuse.requests).toFixed(2)} (without/with reuse)`);
  console.log(`targets         wall ≤ 1500 ms: ${reuse.wall <= 1500 ? "met" : "NOT met"}; ≤ 2 requests per image: ${reuse.requests / images.length <= 2 ? "met" : "NOT met"}`);
  await stopAll();
  cleanupImages();
}

main().catch(async (e: unknown) => {
  console.error(e);
  await stopAll();
  process.exit(1);
});
