/**
 * Gantry's HTTP server: one port, one origin. The portal (pages, actions,
 * /api) is Next.js's request handler; the registry API under /v2/ is served
 * here by plain Node (lib/proxy), because Next's route handlers strip
 * Content-Length, gzip manifests and stream blobs ~3× slower. /healthz and
 * /readyz are answered before either (lib/server/health.ts).
 *
 * It also fixes the client address: X-Gantry-Client-IP is set from the socket
 * (or from the right-most untrusted X-Forwarded-For hop behind trusted
 * proxies, GANTRY_TRUST_PROXY), overwriting anything
 * the client sent, so rate limits and logs cannot be fooled by a header.
 * The request routing lives in lib/server/http-server.ts, the SIGTERM
 * sequence in lib/server/shutdown.ts (both shared with the shutdown test).
 */
import path from "node:path";
import next from "next";
import { env } from "../env";
import { kekProvider } from "../crypto/provider";
import { proxyCache } from "../cache/cache";
import { startRetentionTimer } from "../retention/retention";
import { realmFor } from "../http/public-urls";
import { requestDomain } from "../domains/served";
import { startDomainRecheckTimer } from "../domains/check";
import { log } from "../log";
import { startHostedRegistry, type HostedRegistry } from "../hosted-registry/service";
import { proxyStreamFloor } from "../proxy/upstream";
import { createGantryHttpServer } from "./http-server";
import { installSignalHandlers } from "./signals";

async function main() {
  const config = env();
  // Fail fast without a usable KEK (and create the embedded key file on first start).
  kekProvider();
  // Upstream blob streams are held to the same floor as upload bodies (GANTRY_STREAM_FLOOR_*).
  Object.assign(proxyStreamFloor, config.http.streamFloor);
  const dev = process.argv.includes("--dev");
  const app = next({ dev, dir: path.resolve(__dirname, "../.."), hostname: config.host, port: config.port });
  const handle = app.getRequestHandler();
  await app.prepare();

  const registry = await startRegistry(config);
  const gantry = createGantryHttpServer(config, handle, undefined, registry);
  // Pull events past GANTRY_PULL_LOG_DAYS, ended rate-limit windows, long-expired
  // invitations: purged hourly, in bounded batches (idempotent on several replicas).
  const stopRetention = startRetentionTimer();
  // Custom domains: re-checked every 24 h by whichever server claims each first (lib/domains/check.ts).
  const stopDomainRechecks = startDomainRecheckTimer();
  gantry.server.listen(config.port, config.host, () => {
    const { portal, proxy, registry } = config.urls;
    console.log(
      `Gantry ${dev ? "(dev) " : ""}listening on http://${config.host}:${config.port} (mode: ${config.mode}, portal: ${portal.origin}, proxy: ${proxy.origin}, registry: ${registry?.origin ?? "not exposed"})`,
    );
  });
  gantry.registryServer?.listen(config.registry.port, config.host, () => console.log(`Gantry's registry also on http://${config.host}:${config.registry.port}`));

  // Index the proxy cache's directory now rather than on the first pull.
  proxyCache();
  installSignalHandlers(gantry, config.shutdownGraceSeconds * 1000, () => {
    stopRetention();
    stopDomainRechecks();
  }, () => registry?.stop() ?? Promise.resolve());
}

/** Gantry's own registry (lib/hosted-registry), unless turned off or its storage engine is missing. */
async function startRegistry(config: ReturnType<typeof env>): Promise<HostedRegistry | null> {
  if (!config.registry.enabled) return null;
  if (!config.urls.registry) {
    log.info("Gantry's own registry is not exposed: set GANTRY_REGISTRY_URL (its host name) or GANTRY_REGISTRY_PORT to enable it");
    return null;
  }
  const started = await startHostedRegistry({
    dir: config.registry.storageDir,
    backend: config.registry.backend,
    signing: config.registry.tokenSigning,
    publicHost: config.registryDomain,
    secret: config.authSecret,
    realmFor: (req) => realmFor(req, config, "registry", requestDomain(req)?.name),
  });
  if (!started.registry) {
    log.warn(`Gantry's own registry is off: ${started.reason}`);
    return null;
  }
  console.log(`Gantry's registry: ${config.urls.registry.origin} (storage: ${started.registry.storageOrigin()})`);
  return started.registry;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
