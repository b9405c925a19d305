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
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { getFrom, startGantryServer, stopGantryServers, type GantryServerChild } from "@/lib/testing/gantry-server";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";

/**
 * Graceful shutdown of the real server code (lib/server/http-server.ts,
 * shutdown.ts, signals.ts, run by lib/testing/gantry-server.ts as a child
 * process; only Next's portal is stubbed): SIGTERM while a large blob is being
 * pulled from a real distribution registry through the proxy.
 */
const LAYER_BYTES = 40 * 2 ** 20;
/** After the deadline, the time a cut and the final flush may take before the process is gone. */
const EXIT_MARGIN_MS = 3_000;
let upstream: RunningRegistry;
let ctx: TeamContext;
let slug = "";
let name = "";

beforeAll(async () => {
  upstream = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
  await pushImage(await buildImage({ files: { "big.txt": "big\n" }, randomBytes: LAYER_BYTES }), { registry: upstream, repo: "acme/big", tag: "1", creds: "alice:alice-pw" });
  slug = `drain-${Date.now().toString(36)}`;
  const { user, team } = await signUp({ email: `drain-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Drain" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Drain", slug });
  await setExtraPatterns(ctx, slug, ["**"]);
  await createRegistry(ctx, { name: "Up", endpoint: upstream.url, username: "alice", password: "alice-pw" });
  name = `proxy/${slug}/127.0.0.1_${upstream.port}/acme/big`;
});

afterAll(async () => {
  stopGantryServers();
  await stopAll();
  cleanupImages();
});

/**
 * A license of its own (each test counts its pull events), a token for the
 * image, its largest layer, and that layer's response with its first bytes
 * read and reading paused: a pull in flight.
 */
async function startPull(port: number, customer: string) {
  const created = (await createCustomer(ctx, slug, { name: customer })).license;
  const basic = `Basic ${Buffer.from(`x:${created.licenseId}`).toString("base64")}`;
  const token = (JSON.parse((await getFrom(port, `/v2/token?scope=repository:${name}:pull`, { authorization: basic })).body) as { token: string }).token;
  const auth = { authorization: `Bearer ${token}` };
  const manifest = JSON.parse((await getFrom(port, `/v2/${name}/manifests/1`, { ...auth, accept: MANIFEST_ACCEPT })).body) as { layers: { digest: string; size: number }[] };
  const layer = manifest.layers.reduce((a, b) => (b.size > a.size ? b : a));
  expect(layer.size).toBeGreaterThan(LAYER_BYTES / 2);

  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: `/v2/${name}/blobs/${layer.digest}`, headers: auth, agent: false }, resolve);
    req.on("error", reject);
  });
  expect(res.statusCode).toBe(200);
  const pull = { res, received: 0, hash: crypto.createHash("sha256") };
  res.on("data", (c: Buffer) => {
    pull.hash.update(c);
    pull.received += c.length;
  });
  /** Settles when the response is over: read to its end, or cut. */
  const over = new Promise<{ complete: boolean }>((resolve) => res.once("close", () => resolve({ complete: res.complete })));
  res.on("error", () => {}); // a cut response also errors ("aborted"); `over` reports it
  res.pause();
  await new Promise((r) => setTimeout(r, 300));
  expect(pull.received).toBeLessThan(layer.size);
  return { pull, over, auth, layer, licenseRowId: created.id };
}

/** During the grace: not ready (the failing check named), alive, and no new work taken. */
async function expectDraining(server: GantryServerChild, auth: Record<string, string>) {
  const ready = await getFrom(server.port, "/readyz");
  expect(ready.status).toBe(503);
  expect(JSON.parse(ready.body)).toMatchObject({ status: "unready", failing: ["shutdown"] });
  expect((await getFrom(server.port, "/healthz")).status).toBe(200);
  const refused = await getFrom(server.port, `/v2/${name}/manifests/1`, { ...auth, accept: MANIFEST_ACCEPT });
  expect(refused.status).toBe(503);
  expect(refused.headers.connection).toBe("close");
  expect(server.child.exitCode).toBeNull();
}

/** The pull events of a license's blob pulls (flushed by the server before it exits). */
const blobPulls = (licenseRowId: string) => db.pullEvent.findMany({ where: { licenseId: licenseRowId, kind: "blobs" } });

describe("SIGTERM with a large pull in flight", () => {
  it("turns /readyz 503, refuses new work, lets the pull finish byte-complete, logs it, and exits 0", async () => {
    const server = await startGantryServer({ GANTRY_SHUTDOWN_GRACE_SECONDS: "30" });
    expect((await getFrom(server.port, "/readyz")).status).toBe(200);
    const { pull, over, auth, layer, licenseRowId } = await startPull(server.port, "Drain customer");

    server.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    await expectDraining(server, auth);

    // The pull in flight finishes, byte-complete.
    pull.res.resume();
    expect(await over).toEqual({ complete: true });
    expect(pull.received).toBe(layer.size);
    expect(`sha256:${pull.hash.digest("hex")}`).toBe(layer.digest);

    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.output()).toMatch(/SIGTERM: draining/);
    expect(server.output()).not.toMatch(/cut at the deadline/);

    // Its pull event was flushed before the exit.
    const pulls = await blobPulls(licenseRowId);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({ reference: layer.digest, status: 200, bytesSent: BigInt(layer.size) });
  });

  it("cuts a pull that outlasts GANTRY_SHUTDOWN_GRACE_SECONDS at the deadline, logs it, and still exits 0 in time", async () => {
    const GRACE_MS = 2_000;
    const server = await startGantryServer({ GANTRY_SHUTDOWN_GRACE_SECONDS: String(GRACE_MS / 1000) });
    const { pull, over, auth, layer, licenseRowId } = await startPull(server.port, "Slow customer");

    // The manifest's pull event is written first (batches go out every second): the
    // flush at the deadline then starts with no earlier write in progress, which
    // would give a late pull record time to join it.
    await expect.poll(() => db.pullEvent.count({ where: { licenseId: licenseRowId, kind: "manifests" } }), { timeout: 20_000 }).toBe(1);

    // The client keeps not reading: 40 MiB cannot get through within the grace.
    const signalled = performance.now();
    server.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    await expectDraining(server, auth);
    await new Promise((r) => setTimeout(r, GRACE_MS / 2));
    await expectDraining(server, auth); // still draining, the pull still in flight

    // At the deadline the pull is cut, the pending records are written, and the process exits 0:
    // not before the grace is over, and not much after.
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const exitedAfter = performance.now() - signalled;
    expect(exitedAfter).toBeGreaterThanOrEqual(GRACE_MS);
    expect(exitedAfter).toBeLessThan(GRACE_MS + EXIT_MARGIN_MS);
    expect(server.output()).toMatch(/SIGTERM: draining \(up to 2 s/);
    expect(server.output()).toMatch(/stopped \(1 request\(s\) cut at the deadline\)/);

    // The client reads what had reached it, then the body ends short: the response was cut.
    pull.res.resume();
    expect(await over).toEqual({ complete: false });
    expect(pull.received).toBeGreaterThan(0);
    expect(pull.received).toBeLessThan(layer.size);

    // Its pull event was flushed before the exit, with the bytes that were sent.
    const pulls = await blobPulls(licenseRowId);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({ reference: layer.digest, status: 200 });
    expect(Number(pulls[0]!.bytesSent)).toBeGreaterThanOrEqual(pull.received);
    expect(Number(pulls[0]!.bytesSent)).toBeLessThan(layer.size);
  });
});
