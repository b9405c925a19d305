import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { db } from "@/lib/db";
import { createCustomer } from "@/lib/licenses/customers";
import { createRegistry } from "@/lib/registries/registries";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { setExtraPatterns } from "@/lib/releases/scope";
import { teamContextForUser } from "@/lib/teams/access";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";
import { freePort } from "@/lib/testing/registries/ports";

/**
 * Graceful shutdown of the real server code (lib/server/http-server.ts,
 * shutdown.ts, signals.ts, run by lib/testing/gantry-server.ts as a child
 * process; only Next's portal is stubbed): SIGTERM while a large blob is being
 * pulled from a real distribution registry through the proxy.
 */
const LAYER_BYTES = 40 * 2 ** 20;
let upstream: RunningRegistry;
let child: ChildProcess | undefined;
let port = 0;
let output = "";
let licenseRowId = "";
let name = "";
let basic = "";

beforeAll(async () => {
  upstream = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
  await pushImage(await buildImage({ files: { "big.txt": "big\n" }, randomBytes: LAYER_BYTES }), { registry: upstream, repo: "acme/big", tag: "1", creds: "alice:alice-pw" });
  const slug = `drain-${Date.now().toString(36)}`;
  const { user, team } = await signUp({ email: `drain-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Drain" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Drain", slug });
  await setExtraPatterns(ctx, slug, ["**"]);
  await createRegistry(ctx, { name: "Up", endpoint: upstream.url, username: "alice", password: "alice-pw" });
  const created = (await createCustomer(ctx, slug, { name: "Drain customer" })).license;
  licenseRowId = created.id;
  name = `proxy/${slug}/127.0.0.1_${upstream.port}/acme/big`;
  basic = `Basic ${Buffer.from(`x:${created.licenseId}`).toString("base64")}`;

  port = await freePort();
  child = spawn(process.execPath, ["--import", "tsx", "--require", "./lib/ops/server-only-shim.cjs", "lib/testing/gantry-server.ts"], {
    cwd: process.cwd(),
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", GANTRY_SHUTDOWN_GRACE_SECONDS: "30", GANTRY_COUNT_DB_QUERIES: "0", GANTRY_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${output}`)), 60_000);
    const check = setInterval(() => {
      if (output.includes("listening on")) {
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }
    }, 50);
    child!.once("exit", (code) => reject(new Error(`the server exited with ${code}:\n${output}`)));
  });
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await stopAll();
  cleanupImages();
});

/** A fresh connection each time (no keep-alive), as a load balancer's probe. */
function request(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
  });
}

describe("SIGTERM with a large pull in flight", () => {
  it("turns /readyz 503, refuses new work, lets the pull finish byte-complete, logs it, and exits 0", async () => {
    expect((await request("/readyz")).status).toBe(200);
    const token = (JSON.parse((await request(`/v2/token?scope=repository:${name}:pull`, { authorization: basic })).body) as { token: string }).token;
    const auth = { authorization: `Bearer ${token}` };
    const manifest = JSON.parse((await request(`/v2/${name}/manifests/1`, { ...auth, accept: MANIFEST_ACCEPT })).body) as { layers: { digest: string; size: number }[] };
    const layer = manifest.layers.reduce((a, b) => (b.size > a.size ? b : a));
    expect(layer.size).toBeGreaterThan(LAYER_BYTES / 2);

    // Start the blob, take its first bytes, and stop reading: the response stays in flight.
    const hash = crypto.createHash("sha256");
    let received = 0;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get({ host: "127.0.0.1", port, path: `/v2/${name}/blobs/${layer.digest}`, headers: auth, agent: false }, resolve);
      req.on("error", reject);
    });
    expect(res.statusCode).toBe(200);
    const done = new Promise<void>((resolve, reject) => {
      res.on("data", (c: Buffer) => {
        hash.update(c);
        received += c.length;
      });
      res.on("end", resolve);
      res.on("error", reject);
      res.on("aborted", () => reject(new Error("the pull was cut")));
    });
    res.pause();
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toBeLessThan(layer.size);

    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child!.once("exit", (code, signal) => resolve({ code, signal })));
    child!.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));

    // During the grace: not ready (the failing check named), alive, and no new work taken.
    const ready = await request("/readyz");
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ status: "unready", failing: ["shutdown"] });
    expect((await request("/healthz")).status).toBe(200);
    const refused = await request(`/v2/${name}/manifests/1`, { ...auth, accept: MANIFEST_ACCEPT });
    expect(refused.status).toBe(503);
    expect(refused.headers.connection).toBe("close");
    expect(child!.exitCode).toBeNull();

    // The pull in flight finishes, byte-complete.
    res.resume();
    await done;
    expect(received).toBe(layer.size);
    expect(`sha256:${hash.digest("hex")}`).toBe(layer.digest);

    expect(await exited).toEqual({ code: 0, signal: null });
    expect(output).toMatch(/SIGTERM: draining/);

    // Its pull event was flushed before the exit.
    const pulls = await db.pullEvent.findMany({ where: { licenseId: licenseRowId, kind: "blobs" } });
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({ reference: layer.digest, status: 200, bytesSent: BigInt(layer.size) });
  });
});
