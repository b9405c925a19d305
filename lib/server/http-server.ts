import http from "node:http";
import type { Env } from "../env";
import { setTransportSecurityHeaders } from "../http/security-headers";
import { CLIENT_IP_HEADER, resolveClientIp } from "../net/client-ip";
import type { HostedRegistry } from "../hosted-registry/service";
import { isConfiguredHost } from "../http/public-urls";
import { instrumentRequest } from "../observe/http-metrics";
import { collectProcessMetrics, metrics, onScrape } from "../observe/metrics";
import { createMetricsServer, isMetricsPath, serveMetrics } from "../observe/metrics-endpoint";
import { REQUEST_ID_HEADER, withRequest, type Face, type RequestContext } from "../observe/request-context";
import { requestIdFor } from "../observe/request-id";
import { handleRegistryRequest } from "../proxy/handler";
import { handleAirgapRequest, isAirgapPath } from "../airgap/http";
import { ProxyError, sendError } from "../proxy/errors";
import { answerTlsAsk, isOwnHost, routeCustomDomain } from "../domains/routing";
import { FairQueue } from "./fair-queue";
import { Health } from "./health";
import { configureServerTimeouts, watchBodyDeadline, watchBodyFloor } from "./request-deadlines";
import { Inflight, refuseWhileDraining } from "./shutdown";

export type PortalHandler = (req: http.IncomingMessage, res: http.ServerResponse) => unknown;

export interface GantryHttpServer {
  server: http.Server;
  /** The registry's own port (GANTRY_REGISTRY_PORT), when it has one: not listening yet. */
  registryServer: http.Server | null;
  health: Health;
  inflight: Inflight;
  /** Where requests wait for their turn (lib/server/fair-queue.ts), shared by both servers. */
  queue: FairQueue;
  /** GANTRY_METRICS_PORT's server (/metrics only), when configured: not listening yet. */
  metricsServer: http.Server | null;
}

/**
 * Gantry's node:http server, without the portal itself: lib/server/main.ts
 * passes Next's request handler as `portal`; the shutdown test passes a stub
 * (Next needs a build), so what it exercises is this code.
 *
 * Order per request: the client address and the request id are fixed (the
 * id answers in X-Request-Id, and the rest of the request runs in its context,
 * lib/observe/request-context.ts, so every log line it causes carries it);
 * /metrics is answered when it is served on this port behind a token
 * (lib/observe/metrics-endpoint.ts); /healthz and /readyz are
 * answered (lib/server/health.ts); while draining (SIGTERM) anything else is
 * refused; GET /tls/ask is answered (lib/domains); a request to Gantry's own
 * registry (its host name, GANTRY_REGISTRY_URL, or its own port) goes to
 * lib/hosted-registry; a request on a team's verified custom domain goes to its
 * face (registry, or the proxy for /v2/), one on a claimed but unverified name
 * is refused; /v2/ goes to the registry proxy; air-gap bundle downloads to
 * lib/airgap/http.ts; the rest to the portal.
 * Everything after the probes starts in arrival order from one queue, a
 * bounded slice per event-loop turn (lib/server/fair-queue.ts), so connections
 * opened under load are accepted and served in turn. Each request is counted
 * by face and status when its response closes (lib/observe/http-metrics.ts).
 */
export function createGantryHttpServer(config: Env, portal: PortalHandler, health = new Health(), registry: HostedRegistry | null = null): GantryHttpServer {
  const inflight = new Inflight();
  const queue = new FairQueue();
  const registryUrl = config.urls.registry;
  // Host routing only when the registry has a host of its own (not the proxy's).
  const routeByHost = registry !== null && registryUrl !== undefined && !isConfiguredHost(config.urls.proxy.host.toLowerCase(), registryUrl);
  const prepare = (req: http.IncomingMessage, res: http.ServerResponse): { ip: string | null; id: string } => {
    const ip = resolveClientIp(req, config.trustedProxies);
    if (ip) req.headers[CLIENT_IP_HEADER] = ip;
    else delete req.headers[CLIENT_IP_HEADER];
    if (!config.trustProxy) req.headers["x-forwarded-for"] = ip ?? "";
    // The id the request is known by, on every response and (through the header) to Next's handlers.
    const id = requestIdFor(req, config.trustedProxies);
    req.headers[REQUEST_ID_HEADER] = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    setTransportSecurityHeaders(req, res, config.trustProxy); // nosniff, and HSTS over https: /v2/ and Next alike
    return { ip, id };
  };
  const isRegistryHost = (req: http.IncomingMessage) => routeByHost && registryUrl !== undefined && req.headers.host !== undefined && isConfiguredHost(req.headers.host.toLowerCase(), registryUrl);
  /** Which face serves a request: it labels the request's metrics and picks its handler (a custom domain's lookup may still turn it into the registry's). */
  const faceOf = (req: http.IncomingMessage, path: string, isRegistryApi: boolean): Face => {
    if (isRegistryHost(req)) return "registry";
    if (isRegistryApi) return "proxy";
    // The vendor API; /api/auth (sign-in) is the portal's.
    return path.startsWith("/api/v1/") || path === "/api/v1" ? "api" : "portal";
  };
  /** Probes, then the drain check, then the queue; `start` runs in the request's turn. */
  const admit = (req: http.IncomingMessage, res: http.ServerResponse, ctx: RequestContext, start: () => void) =>
    withRequest(ctx, () => {
      const arrived = performance.now();
      if (health.handle(req, res)) {
        ctx.face = "health";
        return instrumentRequest(req, res, ctx, arrived);
      }
      instrumentRequest(req, res, ctx, arrived);
      if (health.isDraining) return refuseWhileDraining(req, res);
      inflight.track(res);
      // The job runs in the queue's own turn: it enters the request's context again.
      queue.run(() =>
        withRequest(ctx, () => {
          if (res.destroyed) return; // the client left while the request waited
          start();
        }),
      );
    });
  const metricsHere = config.metrics !== null && config.metrics.port === undefined ? config.metrics : null;
  const server = http.createServer((req, res) => {
    const { ip, id } = prepare(req, res);
    const path = req.url ?? "/";
    if (metricsHere && isMetricsPath(path)) return serveMetrics(req, res, metricsHere.token);
    const isRegistryApi = path === "/v2" || path.startsWith("/v2/") || path.startsWith("/v2?");
    const ctx: RequestContext = { id, face: faceOf(req, path, isRegistryApi) };
    admit(req, res, ctx, () => {
      if (path === "/tls/ask" || path.startsWith("/tls/ask?")) return void answerTlsAsk(req, res);
      if (ctx.face === "registry") return toRegistry(registry!, req, res, ip);
      const host = req.headers.host?.toLowerCase();
      if (host && !isOwnHost(host, config)) {
        void routeCustomDomain(req, res, host, isRegistryApi).then((face) => {
          if (face === "registry") {
            // A team's registry domain: its requests count as the registry's.
            ctx.face = "registry";
            if (!registry) return sendError(res, new ProxyError(404, "NAME_UNKNOWN", "Gantry's registry is off on this server."), req.method ?? "GET");
            toRegistry(registry, req, res, ip);
          } else if (face !== "answered") dispatch(req, res, ip, isRegistryApi);
        });
        return;
      }
      dispatch(req, res, ip, isRegistryApi);
    });
  });
  /** Gantry's own registry: a push's body must keep moving (the stream floor), however long it takes. */
  const toRegistry = (hosted: HostedRegistry, req: http.IncomingMessage, res: http.ServerResponse, ip: string | null) => {
    watchBodyFloor(req, res, config.http);
    void hosted.handle(req, res, ip);
  };
  const dispatch = (req: http.IncomingMessage, res: http.ServerResponse, ip: string | null, isRegistryApi: boolean) => {
    if (isRegistryApi) {
      watchBodyFloor(req, res, config.http);
      void handleRegistryRequest(req, res, { clientIp: ip });
      return;
    }
    watchBodyDeadline(req, res, config.http);
    // Air-gap bundles: streamed here, beside Next, which would drop their Content-Length (lib/airgap/http.ts).
    if (isAirgapPath((req.url ?? "/").split("?")[0]!)) return void handleAirgapRequest(req, res, ip);
    void portal(req, res);
  };
  /** Keep-alive, header and body deadlines, and the queue's accept watch: the same on every port. */
  const listenSettings = (s: http.Server) => {
    s.keepAliveTimeout = 65_000;
    configureServerTimeouts(s, config.http);
    queue.watch(s);
  };
  listenSettings(server);
  // GANTRY_REGISTRY_PORT: the registry alone, for setups without host routing (probes answered too).
  const registryServer =
    registry && config.registry.port !== undefined
      ? http.createServer((req, res) => {
          const { ip, id } = prepare(req, res);
          admit(req, res, { id, face: "registry" }, () => toRegistry(registry, req, res, ip));
        })
      : null;
  if (registryServer) listenSettings(registryServer);
  const metricsServer = config.metrics?.port !== undefined ? createMetricsServer(config.metrics.token) : null;
  if (config.metrics) collectProcessMetrics();
  onScrape("http-server", () => {
    metrics.inFlight.set(inflight.size);
    metrics.queueWaiting.set(queue.waiting);
  });
  return { server, registryServer, health, inflight, queue, metricsServer };
}
