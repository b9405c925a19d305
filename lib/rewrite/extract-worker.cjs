// Runs extractImages (lib/rewrite/extract.ts) in a worker thread, so parsing
// uploaded YAML never blocks the server's event loop: the yaml library needs
// seconds for some 512 KiB inputs (deeply nested or huge flow collections),
// and the caller terminates the worker at its deadline. The TypeScript module
// is loaded through tsx's require API (tsx is a runtime dependency). One
// worker serves many requests, one at a time.
const path = require("node:path");
const { parentPort } = require("node:worker_threads");
const { require: tsxRequire } = require("tsx/cjs/api");

// From the working directory (the repository root), not __filename: Next's
// bundler may copy this file and rename its __filename.
const extractPath = path.join(process.cwd(), "lib", "rewrite", "extract.ts");
const { extractImages, ManifestError } = tsxRequire(extractPath, extractPath);
parentPort.on("message", ({ id, files }) => {
  try {
    parentPort.postMessage({ id, ok: true, result: extractImages(files) });
  } catch (e) {
    if (e instanceof ManifestError) {
      parentPort.postMessage({ id, ok: false, manifest: { message: e.message, file: e.file, document: e.document, line: e.line, code: e.code } });
    } else {
      parentPort.postMessage({ id, ok: false, message: e instanceof Error ? e.message : String(e) });
    }
  }
});
