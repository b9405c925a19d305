import http from "node:http";
import type { Env } from "../env";
import { setTransportSecurityHeaders } from "../http/security-headers";
import { CLIENT_IP_HEADER, resolveClientIp } from "../net/client-ip";
import { handleRegistryRequest } from "../proxy/handler";
import { Health } from "./health";
import { Inflight, refuseWhileDraining } from "./shutdown";

export type PortalHandler = (req: http.IncomingMessage, res: http.ServerResponse) => unknown;

export interface GantryHttpServer {
  server: http.Server;
  health: Health;
  inflight: Inflight;
}

/**
 * Gantry's node:http server, without the portal itself: lib/server/main.ts
 * passes Next's request handler as `portal`; the shutdown test passes a stub
 * (Next needs a build), so what it exercises is this code.
 *
 * Order per request: the client address is fixed; /healthz and /readyz are
 * answered (lib/server/health.ts); while draining (SIGTERM) anything else is
 * refused; /v2/ goes to the registry proxy; the rest to the portal.
 */
export function createGantryHttpServer(config: Env, portal: PortalHandler, health = new Health()): GantryHttpServer {
  const inflight = new Inflight();
  const server = http.createServer((req, res) => {
    const ip = resolveClientIp(req, config.trustedProxies);
    if (ip) req.headers[CLIENT_IP_HEADER] = ip;
    else delete req.headers[CLIENT_IP_HEADER];
    if (!config.trustProxy) req.headers["x-forwarded-for"] = ip ?? "";
    const path = req.url ?? "/";
    setTransportSecurityHeaders(req, res, config.trustProxy); // nosniff, and HSTS over https: /v2/ and Next alike
    // Probes first: plain Node, no session, no database beyond the readiness checks.
    if (health.handle(req, res)) return;
    if (health.isDraining) return refuseWhileDraining(req, res);
    inflight.track(res);
    // The registry API is plain Node: streaming, exact headers, no Next rewriting of /v2/.
    if (path === "/v2" || path.startsWith("/v2/") || path.startsWith("/v2?")) {
      void handleRegistryRequest(req, res, { clientIp: ip });
      return;
    }
    void portal(req, res);
  });
  server.keepAliveTimeout = 65_000;
  return { server, health, inflight };
}
