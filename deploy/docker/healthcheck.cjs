// The image's HEALTHCHECK: GET /healthz on Gantry's own port, 200 or unhealthy.
// Plain Node, no tsx: it runs every 30 s and must cost next to nothing.
// It reads HOST and PORT itself (not through lib/env.ts, which would load the
// whole configuration and may write secrets) with the same defaults.
const http = require("node:http");

/* eslint-disable no-restricted-properties -- see above */
const host = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT || 3000);
/* eslint-enable no-restricted-properties */
// A wildcard bind answers on loopback.
const target = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;

const req = http.get({ host: target, port, path: "/healthz", timeout: 4000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on("timeout", () => req.destroy(new Error("timed out")));
req.on("error", (e) => {
  console.error(`healthcheck: ${e.message}`);
  process.exit(1);
});
