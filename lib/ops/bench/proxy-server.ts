/**
 * The registry proxy alone (lib/proxy's handler on node:http, exactly as
 * lib/server mounts it under /v2/), for bench:proxy to measure Gantry's pull
 * path and peak RSS without the portal. Environment comes from the caller.
 */
import http from "node:http";
import { env } from "../../env";
import { handleRegistryRequest } from "../../proxy/handler";

const server = http.createServer((req, res) => void handleRegistryRequest(req, res, { clientIp: req.socket.remoteAddress ?? null }));
server.keepAliveTimeout = 65_000; // as lib/server/main.ts
server.listen(env().port, "127.0.0.1", () => console.log("ready"));
process.on("SIGTERM", () => {
  // Idle keep-alive connections (skopeo, wrk) would hold close() open for 65 s.
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
