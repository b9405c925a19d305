import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { db, takeQueryLog } from "@/lib/db";
import { addDomain, verifyDomain } from "@/lib/domains/domains";
import { forgetServedDomains, requestDomain, SNAPSHOT_MS } from "@/lib/domains/served";
import { env, resetEnvForTests } from "@/lib/env";
import { realmFor } from "@/lib/http/public-urls";
import { startHostedRegistry, type HostedRegistry } from "@/lib/hosted-registry/service";
import { createCustomer } from "@/lib/licenses/customers";
import { createRegistry } from "@/lib/registries/registries";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { setExtraPatterns } from "@/lib/releases/scope";
import { createGantryHttpServer } from "@/lib/server/http-server";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startTestDnsServer, type TestDnsServer } from "@/lib/testing/dns-server";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";

/**
 * Serving custom domains through the real server routing
 * (lib/server/http-server.ts, stub portal) with Gantry's registry in front of
 * a real distribution and the proxy in front of a real upstream: Host picks
 * the face (port ignored), tokens are good only on the name they were issued
 * on, another team's license or app is 404 NAME_UNKNOWN, an unverified name
 * is not served, and /tls/ask answers for verified names only.
 */
let dns: TestDnsServer;
let upstream: RunningRegistry;
let registry: HostedRegistry;
let server: http.Server;
let port = 0;
let storage = "";
let a: TeamContext;
let b: TeamContext;
const stamp = Date.now().toString(36);
const slugA = `serve-a-${stamp}`;
const slugB = `serve-b-${stamp}`;
const proxyA = `images-${stamp}.acme.test`;
const proxyA2 = `pull-${stamp}.acme.test`;
const registryA = `registry-${stamp}.acme.test`;
const pendingA = `pending-${stamp}.acme.test`;
const proxyB = `images-${stamp}.globex.test`;
let licenseA = "";
let licenseB = "";
let repoA = "";
let repoB = "";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}
function send(host: string, target: string, headers: Record<string, string> = {}, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: target, method, headers: { ...headers, host }, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
async function tokenOn(host: string, scope: string, creds: Record<string, string>): Promise<string> {
  const res = await send(host, `/v2/token?scope=${encodeURIComponent(scope)}`, creds);
  expect(res.status, res.body).toBe(200);
  return (JSON.parse(res.body) as { token: string }).token;
}
const audience = (jwt: string) => (JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()) as { aud: string }).aud;
const errorOf = (a: Answer) => (JSON.parse(a.body) as { errors: { code: string; message: string }[] }).errors[0];

async function verified(ctx: TeamContext, name: string, service: "proxy" | "registry") {
  const d = await addDomain(ctx, { name, service });
  dns.set(`_gantry-challenge.${name}`, "TXT", [d.verification.value]);
  expect((await verifyDomain(ctx, d.id)).status).toBe("verified");
  return d;
}

beforeAll(async () => {
  dns = await startTestDnsServer();
  process.env.GANTRY_DNS_SERVERS = dns.address;
  resetEnvForTests();
  upstream = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
  const image = await buildImage({ files: { "domain.txt": "served on a custom domain\n" } });
  await pushImage(image, { registry: upstream, repo: "acme/api", tag: "1", creds: "alice:alice-pw" });

  const team = async (label: string) => {
    const { user, team } = await signUp({ email: `${label}-${stamp}@example.com`, password: "correct horse battery", teamName: label });
    return teamContextForUser(user, team.slug, "team:view");
  };
  [a, b] = await Promise.all([team("serve-a"), team("serve-b")]);
  for (const [ctx, slug] of [[a, slugA], [b, slugB]] as const) {
    await createApp(ctx, { name: slug, slug });
    await setExtraPatterns(ctx, slug, ["**"]);
    await createRegistry(ctx, { name: "Up", endpoint: upstream.url, username: "alice", password: "alice-pw" });
  }
  licenseA = (await createCustomer(a, slugA, { name: "A's customer" })).license.licenseId;
  licenseB = (await createCustomer(b, slugB, { name: "B's customer" })).license.licenseId;
  repoA = `proxy/${slugA}/127.0.0.1_${upstream.port}/acme/api`;
  repoB = `proxy/${slugB}/127.0.0.1_${upstream.port}/acme/api`;
  await verified(a, proxyA, "proxy");
  await verified(a, proxyA2, "proxy");
  await verified(a, registryA, "registry");
  await verified(b, proxyB, "proxy");
  await addDomain(a, { name: pendingA, service: "proxy" });

  storage = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-domains-"));
  const config = env();
  const started = await startHostedRegistry({ dir: storage, publicHost: config.registryDomain, secret: config.authSecret, realmFor: (req) => realmFor(req, config, "registry", requestDomain(req)?.name) });
  if (!started.registry) throw new Error(started.reason);
  registry = started.registry;
  const gantry = createGantryHttpServer(config, (_req, res) => void res.writeHead(200, { "content-type": "text/plain" }).end("portal\n"), undefined, registry);
  server = gantry.server;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
  forgetServedDomains();
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await registry.stop();
  await stopAll();
  cleanupImages();
  await dns.close();
  fs.rmSync(storage, { recursive: true, force: true });
  delete process.env.GANTRY_DNS_SERVERS;
  resetEnvForTests();
});

describe("the proxy on a custom domain", () => {
  it("challenges with the domain as service and realm, issues tokens for it, and pulls (port ignored)", async () => {
    const anon = await send(`${proxyA}:443`, "/v2/");
    expect(anon.status).toBe(401);
    expect(anon.headers["www-authenticate"]).toBe(`Bearer realm="https://${proxyA}:443/v2/token",service="${proxyA}"`);
    const token = await tokenOn(proxyA, `repository:${repoA}:pull`, basic("LICENSE_ID", licenseA));
    expect(audience(token)).toBe(proxyA);
    expect((await send(proxyA, "/v2/", bearer(token))).status).toBe(200);
    const manifest = await send(`${proxyA.toUpperCase()}:8443`, `/v2/${repoA}/manifests/1`, { ...bearer(token), accept: MANIFEST_ACCEPT });
    expect(manifest.status, manifest.body).toBe(200);
    expect(manifest.headers["docker-content-digest"]).toMatch(/^sha256:/);
  });

  it("refuses a token on any other name than the one it was issued on, even one verified on this server before", async () => {
    const onA = await tokenOn(proxyA, `repository:${repoA}:pull`, basic("LICENSE_ID", licenseA));
    const onGantry = await tokenOn("gantry.test:8443", `repository:${repoA}:pull`, basic("LICENSE_ID", licenseA));
    expect(audience(onGantry)).toBe("gantry.test:8443");
    expect((await send(proxyA, `/v2/${repoA}/manifests/1`, { ...bearer(onA), accept: MANIFEST_ACCEPT })).status).toBe(200); // remembered as verified for proxyA
    for (const [host, jwt] of [[proxyA2, onA], ["gantry.test:8443", onA], [proxyA, onGantry], [proxyB, onA]] as const) {
      const res = await send(host, `/v2/${repoA}/manifests/1`, { ...bearer(jwt), accept: MANIFEST_ACCEPT });
      expect(res.status, `${host}`).toBe(401);
    }
  });

  it("answers another team's license 404 NAME_UNKNOWN, for its own app and this team's alike, as for an app that does not exist", async () => {
    const missing = await send(proxyA, `/v2/proxy/no-such-app-${stamp}/x/y/manifests/1`, { ...basic("LICENSE_ID", licenseA), accept: MANIFEST_ACCEPT });
    for (const repo of [repoB, repoA]) {
      const pull = await send(proxyA, `/v2/${repo}/manifests/1`, { ...basic("LICENSE_ID", licenseB), accept: MANIFEST_ACCEPT });
      expect(pull.status).toBe(404);
      expect(errorOf(pull)).toEqual({ code: "NAME_UNKNOWN", message: `No app "${repo.split("/")[1]}" on this registry, or your login cannot see it.`, detail: null });
      const token = await send(proxyA, `/v2/token?scope=${encodeURIComponent(`repository:${repo}:pull`)}`, basic("LICENSE_ID", licenseB));
      expect(token.status).toBe(404);
      expect(errorOf(token)?.code).toBe("NAME_UNKNOWN");
    }
    expect(missing.status).toBe(403); // Gantry's proxy: a license of another app (the existing behaviour, unchanged)
    // Its own team's domain and Gantry's own URL still work for team B's license.
    const own = await tokenOn(proxyB, `repository:${repoB}:pull`, basic("LICENSE_ID", licenseB));
    expect((await send(proxyB, `/v2/${repoB}/manifests/1`, { ...bearer(own), accept: MANIFEST_ACCEPT })).status).toBe(200);
    expect((await send("gantry.test:8443", `/v2/${repoB}/manifests/1`, { ...basic("LICENSE_ID", licenseB), accept: MANIFEST_ACCEPT })).status).toBe(200);
  });

  it("does not serve a claimed name that is not verified, nor one whose record vanished (failed)", async () => {
    const pending = await send(pendingA, `/v2/${repoA}/manifests/1`, basic("LICENSE_ID", licenseA));
    expect(pending.status).toBe(404);
    expect(errorOf(pending)?.message).toMatch(/not a verified domain/);
    await db.domain.update({ where: { name: proxyA2 }, data: { status: "failed" } });
    forgetServedDomains();
    expect((await send(proxyA2, `/v2/${repoA}/manifests/1`, { ...basic("LICENSE_ID", licenseA), accept: MANIFEST_ACCEPT })).status).toBe(404);
    await db.domain.update({ where: { name: proxyA2 }, data: { status: "verified" } });
    forgetServedDomains();
    expect((await send(proxyA2, `/v2/${repoA}/manifests/1`, { ...basic("LICENSE_ID", licenseA), accept: MANIFEST_ACCEPT })).status).toBe(200);
    // A proxy domain serves the registry API only; unknown names reach Gantry as before.
    expect((await send(proxyA, "/sign-in")).status).toBe(404);
    expect((await send("anything.example", "/sign-in")).body).toBe("portal\n");
  });
});

describe("Gantry's registry on a custom domain", () => {
  it("routes the registry face by Host, with the domain as the token audience", async () => {
    const anon = await send(registryA, "/v2/");
    expect(anon.status).toBe(401);
    expect(anon.headers["www-authenticate"]).toContain(`service="${registryA}"`);
    const token = await tokenOn(registryA, `repository:${slugA}/img:pull`, basic("LICENSE_ID", licenseA));
    expect(audience(token)).toBe(registryA);
    expect((await send(registryA, "/v2/", bearer(token))).status).toBe(200);
    expect((await send("registry.vendor.test", "/v2/", bearer(token))).status).toBe(401);
  });

  it("answers another team's app 404 NAME_UNKNOWN, exactly like one that does not exist", async () => {
    const missing = await send(registryA, `/v2/no-such-app-${stamp}/img/tags/list`, basic("LICENSE_ID", licenseB));
    const foreign = await send(registryA, `/v2/${slugB}/img/tags/list`, basic("LICENSE_ID", licenseB));
    expect(missing.status).toBe(404);
    expect(foreign.status).toBe(404);
    expect(errorOf(foreign)).toEqual({ ...errorOf(missing), message: errorOf(missing)?.message.replace(`no-such-app-${stamp}`, slugB) });
    // Another team's license on this team's app: the same answer, not "a license for another application".
    const foreignLicense = await send(registryA, `/v2/${slugA}/img/tags/list`, basic("LICENSE_ID", licenseB));
    expect(foreignLicense.status).toBe(404);
    expect(errorOf(foreignLicense)).toEqual({ ...errorOf(missing), message: errorOf(missing)?.message.replace(`no-such-app-${stamp}`, slugA) });
    const granted = JSON.parse((await send(registryA, `/v2/token?scope=${encodeURIComponent(`repository:${slugB}/img:pull`)}`, basic("LICENSE_ID", licenseB))).body) as { token: string };
    expect(JSON.parse(Buffer.from(granted.token.split(".")[1] ?? "", "base64url").toString())).toMatchObject({ access: [] });
    // On Gantry's own registry host, B's license reaches B's app (not found in storage, but not NAME_UNKNOWN for the app).
    const own = await send("registry.vendor.test", `/v2/${slugB}/img/tags/list`, basic("LICENSE_ID", licenseB));
    expect(errorOf(own)?.message).not.toMatch(/No app/);
  });
});

describe("GET /tls/ask", () => {
  it("answers 200 for verified names only, ignoring case, a trailing dot and a port, unauthenticated", async () => {
    const ask = async (q: string) => (await send("127.0.0.1", `/tls/ask?domain=${encodeURIComponent(q)}`)).status;
    expect(await ask(proxyA)).toBe(200);
    expect(await ask(`${registryA.toUpperCase()}.`)).toBe(200);
    expect(await ask(`${proxyA}:443`)).toBe(200);
    expect(await ask(pendingA)).toBe(404);
    expect(await ask("gantry.test")).toBe(404);
    expect(await ask(`nobody-${stamp}.example`)).toBe(404);
    expect(await ask("not a name")).toBe(404);
    expect(await ask("x".repeat(5000))).toBe(404);
    expect((await send("127.0.0.1", "/tls/ask")).status).toBe(404);
    expect((await send("127.0.0.1", `/tls/ask?domain=${proxyA}`, {}, "POST")).status).toBe(405);
  });

  it("costs no query per request: 500 asks for made-up names read the domains once per SNAPSHOT_MS at most", async () => {
    forgetServedDomains();
    await send("127.0.0.1", `/tls/ask?domain=${proxyA}`);
    takeQueryLog();
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 500 }, (_, i) => send("127.0.0.1", `/tls/ask?domain=flood-${i}-${stamp}.example`)));
    const reloads = 1 + Math.floor((Date.now() - started) / SNAPSHOT_MS);
    expect(answers.every((r) => r.status === 404)).toBe(true);
    expect(takeQueryLog().filter((q) => q.includes("Domain")).length).toBeLessThanOrEqual(reloads);
  });
});
