/**
 * The registry proxy alone (lib/proxy's handler on node:http, exactly as
 * lib/server mounts it under /v2/), for bench:proxy to measure Gantry's pull
 * path and peak RSS without the portal. Environment comes from the caller.
 */
import http from "node:http";
import { env } from "../../env";
import { handleRegistryRequest } from "../../proxy/handler";

const server = http.createServer((req, res) => void handleRegistryRequest(req, res, { clientIp: req.socket.remoteAddress ?? null }));
server.listen(env().port, "127.0.0.1", () => console.log("ready"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
