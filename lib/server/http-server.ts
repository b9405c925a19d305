import http from "node:http";
import type { Env } from "../env";
import { setTransportSecurityHeaders } from "../http/security-headers";
import { CLIENT_IP_HEADER, resolveClientIp } from "../net/client-ip";
import type { HostedRegistry } from "../hosted-registry/service";
import { isConfiguredHost } from "../http/public-urls";
import { handleRegistryRequest } from "../proxy/handler";
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
}

/**
 * Gantry's node:http server, without the portal itself: lib/server/main.ts
 * passes Next's request handler as `portal`; the shutdown test passes a stub
 * (Next needs a build), so what it exercises is this code.
 *
 * Order per request: the client address is fixed; /healthz and /readyz are
 * answered (lib/server/health.ts); while draining (SIGTERM) anything else is
 * refused; GET /tls/ask is answered (lib/domains); a request to Gantry's own
 * registry (its host name, GANTRY_REGISTRY_URL, or its own port) goes to
 * lib/hosted-registry; a request on a team's verified custom domain goes to its
 * face (registry, or the proxy for /v2/), one on a claimed but unverified name
 * is refused; /v2/ goes to the registry proxy; the rest to the portal.
 * Everything after the probes starts in arrival order from one queue, a
 * bounded slice per event-loop turn (lib/server/fair-queue.ts), so connections
 * opened under load are accepted and served in turn.
 */
export function createGantryHttpServer(config: Env, portal: PortalHandler, health = new Health(), registry: HostedRegistry | null = null): GantryHttpServer {
  const inflight = new Inflight();
  const queue = new FairQueue();
  const registryUrl = config.urls.registry;
  // Host routing only when the registry has a host of its own (not the proxy's).
  const routeByHost = registry !== null && registryUrl !== undefined && !isConfiguredHost(config.urls.proxy.host.toLowerCase(), registryUrl);
  const prepare = (req: http.IncomingMessage, res: http.ServerResponse): string | null => {
    const ip = resolveClientIp(req, config.trustedProxies);
    if (ip) req.headers[CLIENT_IP_HEADER] = ip;
    else delete req.headers[CLIENT_IP_HEADER];
    if (!config.trustProxy) req.headers["x-forwarded-for"] = ip ?? "";
    setTransportSecurityHeaders(req, res, config.trustProxy); // nosniff, and HSTS over https: /v2/ and Next alike
    return ip;
  };
  const server = http.createServer((req, res) => {
    const ip = prepare(req, res);
    const path = req.url ?? "/";
    // Probes first: plain Node, no session, no database beyond the readiness checks.
    if (health.handle(req, res)) return;
    if (health.isDraining) return refuseWhileDraining(req, res);
    inflight.track(res);
    queue.run(() => {
      if (res.destroyed) return; // the client left while the request waited
      if (path === "/tls/ask" || path.startsWith("/tls/ask?")) return void answerTlsAsk(req, res);
      const host = req.headers.host?.toLowerCase();
      if (routeByHost && registryUrl && host && isConfiguredHost(host, registryUrl)) {
        watchBodyFloor(req, res, config.http);
        void registry!.handle(req, res, ip);
        return;
      }
      // The registry API is plain Node: streaming, exact headers, no Next rewriting of /v2/.
      const isRegistryApi = path === "/v2" || path.startsWith("/v2/") || path.startsWith("/v2?");
      if (host && !isOwnHost(host, config)) {
        void routeCustomDomain(req, res, host, isRegistryApi).then((face) => {
          if (face === "registry" && registry) {
            watchBodyFloor(req, res, config.http);
            void registry.handle(req, res, ip);
          } else if (face === "registry") {
            sendError(res, new ProxyError(404, "NAME_UNKNOWN", "Gantry's registry is off on this server."), req.method ?? "GET");
          } else if (face !== "answered") dispatch(req, res, ip, isRegistryApi);
        });
        return;
      }
      dispatch(req, res, ip, isRegistryApi);
    });
  });
  const dispatch = (req: http.IncomingMessage, res: http.ServerResponse, ip: string | null, isRegistryApi: boolean) => {
    if (isRegistryApi) {
      watchBodyFloor(req, res, config.http);
      void handleRegistryRequest(req, res, { clientIp: ip });
      return;
    }
    watchBodyDeadline(req, res, config.http);
    void portal(req, res);
  };
  server.keepAliveTimeout = 65_000;
  configureServerTimeouts(server, config.http);
  queue.watch(server);
  // GANTRY_REGISTRY_PORT: the registry alone, for setups without host routing (probes answered too).
  const registryServer =
    registry && config.registry.port !== undefined
      ? http.createServer((req, res) => {
          const ip = prepare(req, res);
          if (health.handle(req, res)) return;
          if (health.isDraining) return refuseWhileDraining(req, res);
          inflight.track(res);
          queue.run(() => {
            if (res.destroyed) return;
            watchBodyFloor(req, res, config.http);
            void registry.handle(req, res, ip);
          });
        })
      : null;
  if (registryServer) {
    registryServer.keepAliveTimeout = 65_000;
    configureServerTimeouts(registryServer, config.http);
    queue.watch(registryServer);
  }
  return { server, registryServer, health, inflight, queue };
}
