import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { createCustomer, revokeLicense } from "@/lib/licenses/customers";
import { createRegistry } from "@/lib/registries/registries";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { setExtraPatterns } from "@/lib/releases/scope";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { getFrom, startGantryServer, stopGantryServers, type GantryServerChild } from "@/lib/testing/gantry-server";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";
import { skopeoPull } from "@/lib/testing/skopeo";

/**
 * A customer's "pull failed" found in the log in one search: the real server
 * (lib/server, a child process writing its log to a file, as a container's
 * stderr) answers every request with X-Request-Id, puts the same id in every
 * registry error body (`detail.requestId`), and writes it on every line the
 * request causes, also those logged after awaiting the upstream (undici's
 * callbacks). Searching the file for the id finds exactly the request's lines.
 */
let dir = "";
let logFile = "";
let gantry: GantryServerChild;
let trusting: GantryServerChild;
let upstream: RunningRegistry;
let failing: http.Server;
let failingPort = 0;
let ctx: TeamContext;
let slug = "";
let license = "";

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-request-ids-"));
  logFile = path.join(dir, "server.log");
  upstream = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
  await pushImage(await buildImage({ files: { "r.txt": "request ids\n" } }), { registry: upstream, repo: "acme/traced", tag: "1", creds: "alice:alice-pw" });
  // A registry whose manifests fail with 500 (distribution has no switch for that).
  failing = http.createServer((req, res) => {
    if (req.url === "/v2/") return void res.writeHead(200, { "content-type": "application/json" }).end("{}");
    res.writeHead(500, { "content-type": "text/plain" }).end("database on fire");
  });
  await new Promise<void>((r) => failing.listen(0, "127.0.0.1", r));
  failingPort = (failing.address() as AddressInfo).port;

  slug = `ids-${Date.now().toString(36)}`;
  const { user, team } = await signUp({ email: `ids-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Ids" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Ids", slug });
  await setExtraPatterns(ctx, slug, ["**"]);
  await createRegistry(ctx, { name: "Up", endpoint: upstream.url, username: "alice", password: "alice-pw" });
  await createRegistry(ctx, { name: "Failing", endpoint: `http://127.0.0.1:${failingPort}`, username: "u", password: "p" });
  license = (await createCustomer(ctx, slug, { name: "Traced" })).license.licenseId;
  gantry = await startGantryServer({ GANTRY_LOG_LEVEL: "info", GANTRY_REGISTRY: "off" }, 60_000, { logFile });
  trusting = await startGantryServer({ GANTRY_LOG_LEVEL: "info", GANTRY_REGISTRY: "off", GANTRY_TRUST_PROXY: "127.0.0.1/32" }, 60_000, { logFile });
});

afterAll(async () => {
  stopGantryServers();
  failing?.close();
  await stopAll();
  cleanupImages();
  fs.rmSync(dir, { recursive: true, force: true });
});

const basic = (id: string) => ({ authorization: `Basic ${Buffer.from(`x:${id}`).toString("base64")}` });
const path_ = (upstreamHost: string, rest: string) => `/v2/proxy/${slug}/${upstreamHost}/${rest}`;

/** The one search an operator makes: every line of the log file that contains the id. */
async function linesWith(id: string, atLeast = 1): Promise<Record<string, unknown>[]> {
  // The child writes its log as it goes: give its last line a moment to land.
  for (let i = 0; ; i++) {
    const found = fs
      .readFileSync(logFile, "utf8")
      .split("\n")
      .filter((l) => l.includes(id));
    if (found.length >= atLeast || i >= 40) return found.map((l) => JSON.parse(l) as Record<string, unknown>);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The id from the response header, checked against the error body's detail. */
function idOf(res: { headers: http.IncomingHttpHeaders; body: string }): string {
  const id = res.headers["x-request-id"];
  expect(typeof id).toBe("string");
  const body = JSON.parse(res.body) as { errors: { detail: { requestId?: string } | null }[] };
  expect(body.errors[0]?.detail?.requestId).toBe(id);
  return id as string;
}

describe("request ids", () => {
  it("a registry error: the id in X-Request-Id and in detail.requestId finds its log line", async () => {
    const res = await getFrom(gantry.port, path_("no-such-registry", "acme/x/manifests/1"), basic(license));
    expect(res.status).toBe(404);
    const id = idOf(res);
    const lines = await linesWith(id);
    expect(lines.map((l) => [l.msg, l.code, l.status])).toEqual([["registry error", "NAME_UNKNOWN", 404]]);
    expect(lines.every((l) => l.requestId === id)).toBe(true);
  });

  it("a revoked license's failed pull (skopeo, then the same request by hand) is found by its id", async () => {
    const revoked = (await createCustomer(ctx, slug, { name: "Revoked" })).license;
    await revokeLicense(ctx, revoked.id);
    await new Promise((r) => setTimeout(r, 600)); // the server's license decisions are remembered for 500 ms
    const reference = `127.0.0.1:${gantry.port}/proxy/${slug}/127.0.0.1_${upstream.port}/acme/traced:1`;
    await expect(skopeoPull(reference, `x:${revoked.licenseId}`)).rejects.toThrow(/revoked/);
    const res = await getFrom(gantry.port, path_(`127.0.0.1_${upstream.port}`, "acme/traced/manifests/1"), { ...basic(revoked.licenseId), accept: MANIFEST_ACCEPT });
    expect(res.status).toBe(401);
    const id = idOf(res);
    const lines = await linesWith(id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "info", msg: "registry error", code: "UNAUTHORIZED", requestId: id });
    expect(String(lines[0]?.message)).toContain("revoked");
    // The license itself is never written, not even masked into the path.
    expect(fs.readFileSync(logFile, "utf8")).not.toContain(revoked.licenseId);
  });

  it("an upstream 500: the lines logged after the upstream answered (undici's continuation) carry the id too", async () => {
    const res = await getFrom(gantry.port, path_(`127.0.0.1_${failingPort}`, "acme/broken/manifests/1"), { ...basic(license), accept: MANIFEST_ACCEPT });
    expect(res.status).toBe(502);
    const id = idOf(res);
    const lines = await linesWith(id, 2);
    expect(lines.map((l) => l.msg)).toEqual(["upstream answered an error", "registry error"]);
    expect(lines[0]).toMatchObject({ level: "warn", status: 500, requestId: id });
    expect(lines[1]).toMatchObject({ level: "warn", status: 502, code: "UNAVAILABLE", requestId: id });
  });

  it("a successful pull answers with an id on every response, one per request", async () => {
    const res = await getFrom(gantry.port, "/v2/token?scope=repository:x:pull", basic(license));
    expect(res.status).toBe(200);
    const probe = await getFrom(gantry.port, "/healthz");
    const portal = await getFrom(gantry.port, "/sign-in");
    const ids = [res, probe, portal].map((r) => r.headers["x-request-id"]);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(3);
  });

  it("keeps a sane X-Request-Id only from a trusted proxy", async () => {
    const sent = { "x-request-id": "lb-2f9c.77" };
    // The default server trusts no proxy: the client's header is replaced.
    const untrusted = await getFrom(gantry.port, path_("nope", "a/manifests/1"), { ...basic(license), ...sent });
    expect(idOf(untrusted)).not.toBe("lb-2f9c.77");
    // GANTRY_TRUST_PROXY=127.0.0.1/32: the test is that proxy.
    const trusted = await getFrom(trusting.port, path_("nope", "a/manifests/1"), { ...basic(license), ...sent });
    expect(idOf(trusted)).toBe("lb-2f9c.77");
    expect((await linesWith("lb-2f9c.77")).map((l) => l.requestId)).toEqual(["lb-2f9c.77"]);
    // Not sane (a license-shaped value would be written unmasked): replaced.
    const shaped = await getFrom(trusting.port, path_("nope", "a/manifests/1"), { ...basic(license), "x-request-id": license });
    expect(idOf(shaped)).not.toBe(license);
    expect(fs.readFileSync(logFile, "utf8")).not.toContain(license);
  });
});
