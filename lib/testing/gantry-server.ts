/**
 * Gantry's HTTP server exactly as lib/server/main.ts runs it (routing, health
 * probes, SIGTERM sequence), with a stub in place of Next's portal, which
 * needs `npm run build`. For tests that run the server as a child process
 * (lib/server/shutdown.int.test.ts). Environment comes from the caller.
 */
import { env } from "../env";
import { createGantryHttpServer } from "../server/http-server";
import { installSignalHandlers } from "../server/signals";

const config = env();
const gantry = createGantryHttpServer(config, (_req, res) => {
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("no portal in this test server\n");
});
installSignalHandlers(gantry, config.shutdownGraceSeconds * 1000);
gantry.server.listen(config.port, config.host, () => console.log(`Gantry (test server) listening on http://${config.host}:${config.port}`));
