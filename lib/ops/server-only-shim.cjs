// Lets Node-side entry points (CLI, server) load modules marked `import "server-only"`.
// That package throws unless resolved under React's "react-server" condition, which
// only Next's bundler sets; outside Next every module is server-side anyway.
const Module = require("node:module");
const path = require("node:path");
const empty = path.join(__dirname, "..", "testing", "empty-module.cjs");
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === "server-only") return empty;
  return resolve.call(this, request, ...rest);
};
