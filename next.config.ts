import type { NextConfig } from "next";
import { API_CONTENT_SECURITY_POLICY, STATIC_SECURITY_HEADERS } from "./lib/http/security-headers";

const nextConfig: NextConfig = {
  // Registry clients request `/v2/` with its trailing slash; never redirect it.
  skipTrailingSlashRedirect: true,
  poweredByHeader: false,
  // tsx/esbuild: loaded at run time by the manifest-parsing worker (lib/rewrite/extract-worker.cjs), never bundled.
  // prom-client: one metrics registry per process, shared with the server (lib/observe/metrics.ts), never bundled.
  serverExternalPackages: ["@node-rs/argon2", "better-sqlite3", "tsx", "esbuild", "prom-client"],
  typedRoutes: false,
  async headers() {
    return [
      { source: "/:path*", headers: [...STATIC_SECURITY_HEADERS] },
      // Pages and portal handlers get a per-request policy with a nonce from proxy.ts, which skips /api.
      { source: "/api/:path*", headers: [{ key: "Content-Security-Policy", value: API_CONTENT_SECURITY_POLICY }] },
    ];
  },
};

export default nextConfig;
