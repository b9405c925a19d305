/**
 * Gantry's air-gap bundle download alone, for bench:airgap (started by
 * gantry-process.ts as a child, so its event loop and RSS are its own): a
 * scratch data directory, cache directory and SQLite database (migrated
 * here), seeded through the app's own functions: a team, an app, the
 * vendor's registry (BENCH_UPSTREAM, credentials BENCH_UPSTREAM_CREDS), a
 * release whose manifests name BENCH_IMAGES (comma-separated references on
 * that registry: private images, served through the proxy's cache) and a
 * license. Then the release is warmed (lib/airgap/warm.ts warmRelease: every
 * blob into the cache), and GET/HEAD /bundle answers as the download route
 * does once the caller is authorized: planBundle, bundleAnswer, writeAnswer.
 *
 * Prints one JSON line on stdout when ready:
 *   { ready, url, digests, warm: { blobs, bytes, seconds } }
 * Environment: PORT, BENCH_SCRATCH (parent of the scratch dir), BENCH_UPSTREAM,
 * BENCH_UPSTREAM_CREDS, BENCH_IMAGES. SIGTERM/SIGINT remove the scratch dir.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const root = path.resolve(__dirname, "../../..");
const dataDir = fs.mkdtempSync(path.join(process.env.BENCH_SCRATCH ?? "/tmp", "gantry-bench-airgap-server-"));
process.env.GANTRY_DATA_DIR = dataDir;
process.env.GANTRY_CACHE_DIR = path.join(dataDir, "cache");
process.env.DATABASE_URL = `file:${path.join(dataDir, "bench.db")}`;
process.env.AUTH_SECRET ??= "bench-secret-0123456789abcdefghijklmnop";
process.env.GANTRY_LOG_LEVEL ??= "error";
process.env.GANTRY_ALLOWED_PRIVATE_HOSTS ??= "127.0.0.1/32";
execFileSync(path.join(root, "node_modules", ".bin", "prisma"), ["migrate", "deploy"], { cwd: root, env: process.env, stdio: ["ignore", "ignore", "inherit"] });

async function main() {
  // Every module of the download path is loaded before the first request (no first-download import cost in its RSS).
  const { env } = await import("@/lib/env");
  const { signUp } = await import("@/lib/auth/sign-up");
  const { teamContextForUser } = await import("@/lib/teams/access");
  const { createApp } = await import("@/lib/apps/apps");
  const { createRegistry } = await import("@/lib/registries/registries");
  const { createRelease } = await import("@/lib/releases/releases");
  const { createCustomer } = await import("@/lib/licenses/customers");
  const { warmRelease } = await import("@/lib/airgap/warm");
  const { planBundle } = await import("@/lib/airgap/bundle");
  const { bundleAnswer, writeAnswer } = await import("@/lib/airgap/serve");
  const { toAppError } = await import("@/lib/http/map-error");
  const { db } = await import("@/lib/db");

  const upstream = process.env.BENCH_UPSTREAM ?? "";
  const [username = "", password = ""] = (process.env.BENCH_UPSTREAM_CREDS ?? "").split(":");
  const images = (process.env.BENCH_IMAGES ?? "").split(",").filter(Boolean);
  if (!upstream || !images.length) throw new Error("BENCH_UPSTREAM and BENCH_IMAGES are required");

  const slug = "bench";
  const version = "1.0.0";
  const { user, team } = await signUp({ email: "bench@example.com", password: "correct horse battery", teamName: "Bench" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Bench", slug });
  await createRegistry(ctx, { name: "Vendor", endpoint: upstream, username, password });
  const content = images
    .map((image, i) => `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: c${i}\nspec:\n  template:\n    spec:\n      containers:\n        - name: c${i}\n          image: ${image}\n`)
    .join("---\n");
  const release = await createRelease(ctx, slug, { version, files: [{ name: "app.yaml", content }] });
  const notPrivate = release.images.filter((i) => i.status !== "private");
  if (notPrivate.length) throw new Error(`release images not private: ${notPrivate.map((i) => `${i.image} ${i.status}`).join(", ")}`);
  const licenseRowId = (await createCustomer(ctx, slug, { name: "Bench customer" })).license.id;
  const warm = await warmRelease(team.id, slug, version);
  // A server that has served anything has its pull-log writer thread running (it starts with the first
  // record written, and costs its own ~70 MB): started here, with one HEAD's record, so the downloads
  // measured are the stream's memory, not that thread's start.
  const { flushPulls } = await import("@/lib/proxy/pull-log");
  bundleAnswer(await planBundle({ teamId: team.id, appSlug: slug, version, licenseRowId, includePublic: true }), { method: "HEAD" }, null);
  await flushPulls();

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://local");
      if (url.pathname !== "/bundle") return void res.writeHead(404).end();
      try {
        const plan = await planBundle({ teamId: team.id, appSlug: slug, version, licenseRowId, includePublic: true });
        // What lib/airgap/http.ts does once the caller is authorized: the same answer, the same writer.
        const answer = bundleAnswer(plan, { method: req.method ?? "GET", range: req.headers.range ?? null, ifRange: (req.headers["if-range"] as string | undefined) ?? null, userAgent: req.headers["user-agent"] ?? null }, req.socket.remoteAddress ?? null);
        await writeAnswer(res, answer);
      } catch (e) {
        const err = toAppError(e);
        res.writeHead(err.status, { "content-type": "text/plain" }).end(err.message);
      }
    })();
  });
  server.keepAliveTimeout = 65_000; // as lib/server/main.ts
  await new Promise<void>((r) => server.listen(env().port, "127.0.0.1", r));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await db.$disconnect();
    fs.rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  process.on("exit", () => fs.rmSync(dataDir, { recursive: true, force: true }));

  const digests = Object.fromEntries(release.images.map((i) => [i.image, i.digest]));
  console.log(JSON.stringify({ ready: true, url: `http://127.0.0.1:${env().port}/bundle`, digests, warm: { blobs: warm.blobs, bytes: warm.bytes, seconds: warm.seconds } }));
}

main().catch((e: unknown) => {
  console.error(e);
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.exit(1);
});
