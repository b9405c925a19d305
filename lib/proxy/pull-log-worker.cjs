// Writes the proxy's pull records (lib/proxy/pull-log-writer.ts) on its own
// thread with its own database connection, so the event loop serving
// registry requests never runs Prisma's per-row work for them. The
// TypeScript module is loaded through tsx's require API (a runtime
// dependency), from the working directory (the repository root).
const path = require("node:path");
const { parentPort } = require("node:worker_threads");
const { require: tsxRequire } = require("tsx/cjs/api");

// lib/db.ts is marked server-only; this thread is server code, whatever started it.
require(path.join(process.cwd(), "lib", "ops", "server-only-shim.cjs"));

const writerPath = path.join(process.cwd(), "lib", "proxy", "pull-log-writer.ts");
const { writePulls } = tsxRequire(writerPath, writerPath);
parentPort.on("message", async ({ id, batch }) => {
  try {
    parentPort.postMessage({ id, ...(await writePulls(batch)) });
  } catch (e) {
    parentPort.postMessage({ id, failed: batch.length, error: e instanceof Error ? e.message : String(e) });
  }
});
