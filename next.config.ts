import type { NextConfig } from "next";
import { API_CONTENT_SECURITY_POLICY, STATIC_SECURITY_HEADERS } from "./lib/http/security-headers";

const nextConfig: NextConfig = {
  // Registry clients request `/v2/` with its trailing slash; never redirect it.
  skipTrailingSlashRedirect: true,
  poweredByHeader: false,
  // tsx/esbuild: loaded at run time by the manifest-parsing worker (lib/rewrite/extract-worker.cjs), never bundled.
  // prom-client: one metrics registry per process, shared with the server (lib/observe/metrics.ts), never bundled.
  // The cloud SDKs (lib/registries/cloud): node-only, loaded as the server loads them rather than bundled
  // (google-auth-library imports node-fetch at run time).
  serverExternalPackages: [
    "@node-rs/argon2",
    "better-sqlite3",
    "tsx",
    "esbuild",
    "prom-client",
    "@aws-sdk/client-ecr",
    "@aws-sdk/client-sts",
    "@aws-sdk/credential-providers",
    "@smithy/node-http-handler",
    "google-auth-library",
    "@azure/identity",
  ],
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
