/**
 * Gantry's own registry alone, for bench:registry (started by gantry-process.ts
 * as a child, so the bench's skopeo bookkeeping does not share its event loop
 * and its RSS is its own in /proc): the hosted registry handler on node:http
 * in front of an embedded distribution, on a scratch data directory and a
 * scratch SQLite database (migrated here), seeded through the app's own
 * functions: a vendor, a team, an app whose extra patterns ["**"] put every
 * repository in its releases' scope, an admin API token and a license.
 *
 * Prints one JSON line on stdout when ready:
 *   { ready, host, storageOrigin, slug, adminToken, licenseId, directToken, distributionPid, dataDir }
 * directToken is a token for distribution itself, signed with the registry's
 * own key like Gantry's storage tokens, granting pull+push on BENCH_DIRECT_REPOS
 * (comma-separated): the bench's "direct" side talks to the same distribution
 * with it. Environment: PORT, BENCH_SCRATCH (parent of the scratch dir),
 * BENCH_DIRECT_REPOS. SIGTERM/SIGINT stop distribution and remove the scratch dir.
 */
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { SignJWT } from "jose";

const root = path.resolve(__dirname, "../../..");
const dataDir = fs.mkdtempSync(path.join(process.env.BENCH_SCRATCH ?? "/tmp", "gantry-bench-registry-server-"));
process.env.GANTRY_DATA_DIR = dataDir;
process.env.DATABASE_URL = `file:${path.join(dataDir, "bench.db")}`;
process.env.AUTH_SECRET ??= "bench-secret-0123456789abcdefghijklmnop";
process.env.GANTRY_LOG_LEVEL ??= "error";
execFileSync(path.join(root, "node_modules", ".bin", "prisma"), ["migrate", "deploy"], { cwd: root, env: process.env, stdio: ["ignore", "ignore", "inherit"] });

/** A direct token outlives any reasonable RUNS (a 200 MB round takes seconds); the distribution is thrown away after the bench. */
const DIRECT_TOKEN_SECONDS = 4 * 3600;

/** pid of the embedded distribution: the docker-registry child of this process. */
function distributionPid(): number | null {
  for (const tid of fs.readdirSync(`/proc/${process.pid}/task`)) {
    const kids = fs.readFileSync(`/proc/${process.pid}/task/${tid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    for (const kid of kids) {
      const argv = fs.readFileSync(`/proc/${kid}/cmdline`, "utf8").split("\0");
      if (argv.includes("serve")) return kid;
    }
  }
  return null;
}

async function main() {
  const { env } = await import("@/lib/env");
  const { startHostedRegistry } = await import("@/lib/hosted-registry/service");
  const { loadSigningKey, STORAGE_ISSUER, STORAGE_SERVICE } = await import("@/lib/hosted-registry/signing");
  const { signUp } = await import("@/lib/auth/sign-up");
  const { teamContextForUser } = await import("@/lib/teams/access");
  const { createApp } = await import("@/lib/apps/apps");
  const { createApiToken } = await import("@/lib/api-tokens/tokens");
  const { createCustomer } = await import("@/lib/licenses/customers");
  const { setExtraPatterns } = await import("@/lib/releases/scope");
  const { db } = await import("@/lib/db");

  const registryDir = path.join(dataDir, "registry");
  const attached: { handle?: (req: http.IncomingMessage, res: http.ServerResponse) => void } = {};
  const server = http.createServer((req, res) => {
    if (attached.handle) attached.handle(req, res);
    else res.writeHead(503).end();
  });
  server.keepAliveTimeout = 65_000; // as lib/server/main.ts
  await new Promise<void>((r) => server.listen(env().port, "127.0.0.1", r));
  const host = `127.0.0.1:${env().port}`;
  const started = await startHostedRegistry({
    dir: registryDir,
    publicHost: host,
    secret: process.env.AUTH_SECRET!,
    realmFor: (req) => ({ realm: `http://${req.headers.host ?? host}/v2/token`, service: host }),
  });
  if (!started.registry) throw new Error(started.reason);
  const registry = started.registry;
  attached.handle = (req, res) => void registry.handle(req, res, req.socket.remoteAddress ?? null);
  const distPid = distributionPid();

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // Idle keep-alive connections (skopeo) would hold close() open for 65 s.
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await registry.stop();
    await db.$disconnect();
    fs.rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  process.on("exit", () => {
    // A crash or a forced exit must not leave distribution running or the scratch dir behind.
    if (distPid) {
      try {
        process.kill(distPid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const slug = "bench";
  const { user, team } = await signUp({ email: "bench@example.com", password: "correct horse battery", teamName: "Bench" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Bench", slug });
  await setExtraPatterns(ctx, slug, ["**"]); // licenses may pull every repository of the app
  const adminToken = (await createApiToken(ctx, { name: "bench-admin", role: "admin" })).token;
  const licenseId = (await createCustomer(ctx, slug, { name: "Bench customer" })).license.licenseId;

  const key = loadSigningKey(registryDir);
  const repos = (process.env.BENCH_DIRECT_REPOS ?? "").split(",").filter(Boolean);
  const iat = Math.floor(Date.now() / 1000);
  const directToken = await new SignJWT({ access: repos.map((name) => ({ type: "repository", name, actions: ["pull", "push"] })) })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: key.kid })
    .setIssuer(STORAGE_ISSUER)
    .setSubject("bench-direct")
    .setAudience(STORAGE_SERVICE)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + DIRECT_TOKEN_SECONDS)
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);

  console.log(JSON.stringify({ ready: true, host, storageOrigin: registry.storageOrigin(), slug, adminToken, licenseId, directToken, distributionPid: distPid, dataDir }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
