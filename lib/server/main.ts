/**
 * Gantry's HTTP server: one port, one origin. The portal (pages, actions,
 * /api) is Next.js's request handler; the registry API under /v2/ is served
 * here by plain Node (lib/proxy), because Next's route handlers strip
 * Content-Length, gzip manifests and stream blobs ~3× slower.
 *
 * It also fixes the client address: X-Gantry-Client-IP is set from the socket
 * (or from the right-most untrusted X-Forwarded-For hop behind trusted
 * proxies, GANTRY_TRUST_PROXY), overwriting anything
 * the client sent, so rate limits and logs cannot be fooled by a header.
 */
import http from "node:http";
import path from "node:path";
import next from "next";
import { env } from "../env";
import { CLIENT_IP_HEADER, resolveClientIp } from "../net/client-ip";
import { setTransportSecurityHeaders } from "../http/security-headers";
import { kekProvider } from "../crypto/provider";
import { handleRegistryRequest } from "../proxy/handler";
import { purgeExpiredBuckets } from "../rate-limit/fixed-window";
import { flushPulls } from "../proxy/pull-log";
import { flushCacheUsage } from "../cache/usage";
import { proxyCache } from "../cache/cache";

async function main() {
  const config = env();
  // Fail fast without a usable KEK (and create the embedded key file on first start).
  kekProvider();
  const dev = process.argv.includes("--dev");
  const app = next({ dev, dir: path.resolve(__dirname, "../.."), hostname: config.host, port: config.port });
  const handle = app.getRequestHandler();
  await app.prepare();

  const server = http.createServer((req, res) => {
    const ip = resolveClientIp(req, config.trustedProxies);
    if (ip) req.headers[CLIENT_IP_HEADER] = ip;
    else delete req.headers[CLIENT_IP_HEADER];
    if (!config.trustProxy) req.headers["x-forwarded-for"] = ip ?? "";
    const path = req.url ?? "/";
    setTransportSecurityHeaders(req, res, config.trustProxy); // nosniff, and HSTS over https: /v2/ and Next alike
    // The registry API is plain Node: streaming, exact headers, no Next rewriting of /v2/.
    if (path === "/v2" || path.startsWith("/v2/") || path.startsWith("/v2?")) {
      void handleRegistryRequest(req, res, { clientIp: ip });
      return;
    }
    void handle(req, res);
  });
  server.keepAliveTimeout = 65_000;
  // Rate-limit windows are one row each; drop the ended ones hourly (idempotent on several instances).
  setInterval(() => void purgeExpiredBuckets().catch((e: unknown) => console.error("purging rate-limit buckets failed", e)), 3600_000).unref();
  server.listen(config.port, config.host, () => {
    console.log(`Gantry ${dev ? "(dev) " : ""}listening on http://${config.host}:${config.port} (mode: ${config.mode}, proxy domain: ${config.proxyDomain})`);
  });

  // Index the proxy cache's directory now rather than on the first pull.
  proxyCache();
  const stop = (signal: string) => {
    console.log(`${signal}: shutting down`);
    // Pull records and cache counters are written in batches: write what is pending.
    server.close(() => void Promise.allSettled([flushPulls(), flushCacheUsage()]).then(() => process.exit(0)));
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
