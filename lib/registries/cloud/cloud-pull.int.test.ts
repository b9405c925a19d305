import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "@/lib/auth/sign-up";
import { createApp } from "@/lib/apps/apps";
import { resetProxyCacheForTests } from "@/lib/cache/cache";
import { db } from "@/lib/db";
import { env, resetEnvForTests } from "@/lib/env";
import { createCustomer } from "@/lib/licenses/customers";
import { handleRegistryRequest } from "@/lib/proxy/handler";
import { createRegistry, getRegistryRow } from "@/lib/registries/registries";
import { testConnection } from "@/lib/registries/test-connection";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { sharedTokenCache } from "@/lib/registry-client/token-cache";
import { createRelease } from "@/lib/releases/releases";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startAcrStandIn, type AcrStandIn } from "@/lib/testing/cloud/acr-standin";
import { startEcrStandIn, type EcrStandIn } from "@/lib/testing/cloud/ecr-standin";
import { startGarStandIn, type GarStandIn, type GarStandInKey } from "@/lib/testing/cloud/gar-standin";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";
import { skopeoPull } from "@/lib/testing/skopeo";
import { credentialSource } from "./sources";
import { setCloudTransportForTests } from "./mint";
import { cloudTransport } from "./transport";
import { captureStderr, databaseBytes } from "@/lib/testing/database-bytes";

/**
 * Customers pull through the proxy from a registry of each cloud kind: Gantry
 * mints the registry credentials from the stored identity at each cloud's
 * stand-in, and the registry behind it is a real distribution whose token
 * server accepts only passwords the stand-in minted and has not expired, so an
 * expired token really fails (each renewed token is presented to that token
 * server when it replaces the last).
 */
const ECR_KEY = { accessKeyId: "AKIAGANTRYPULLTEST01", secretAccessKey: "ecr-secret-Zk2pQ9vL0x" };
let ecr: EcrStandIn;
let gar: GarStandIn;
let garKey: GarStandInKey;
let acr: AcrStandIn;
let ecrUpstream: RunningRegistry;
let garUpstream: RunningRegistry;
let proxy: http.Server;
let host = "";
let ctx: TeamContext;
let license = "";
const stamp = Date.now().toString(36);
const slug = `cloud-${stamp}`;
const seen = new Set<string>(); // every minted password a registry was shown
const revoked = new Set<string>();
const registries: Record<"ecr" | "gar" | "acr", { id: string; pathName: string; digest: string }> = {
  ecr: { id: "", pathName: "", digest: "" },
  gar: { id: "", pathName: "", digest: "" },
  acr: { id: "", pathName: "", digest: "" },
};
const stderr = captureStderr();

/** The token server of a registry behind a stand-in: the pusher, or a live minted password that was not revoked. */
const acceptMinted = (isValid: (u: string, p: string) => boolean) => (user: string, password: string) => {
  if (user === "pusher") return password === "push-pw";
  seen.add(password);
  return isValid(user, password) && !revoked.has(password);
};

beforeAll(async () => {
  ecr = await startEcrStandIn({ users: [ECR_KEY], region: "us-east-1", tokenLifetimeSeconds: 4 });
  gar = await startGarStandIn({ lifetimeSeconds: 3600 });
  garKey = gar.createKey({ email: "puller@acme-prod.iam.gserviceaccount.com" });
  acr = await startAcrStandIn({ refreshTokenLifetimeSeconds: 3600 });
  ecrUpstream = await startRegistry({ auth: "token", users: { pusher: "push-pw" }, accept: acceptMinted((u, p) => ecr.isValid(u, p)), tokenTtlSeconds: 2 });
  garUpstream = await startRegistry({ auth: "token", users: { pusher: "push-pw" }, accept: acceptMinted((u, p) => gar.isValid(u, p)), tokenTtlSeconds: 2 });
  const img = (kind: string) => buildImage({ files: { "kind.txt": `${kind}\n` } });
  registries.ecr.digest = (await pushImage(await img("ecr"), { registry: ecrUpstream, repo: "acme/api", tag: "1.0.0", creds: "pusher:push-pw" })).digest;
  registries.gar.digest = (await pushImage(await img("gar"), { registry: garUpstream, repo: "acme/api", tag: "1.0.0", creds: "pusher:push-pw" })).digest;
  registries.acr.digest = (await pushImage(await img("acr"), { registry: acr.registry, repo: "acme/api", tag: "1.0.0", creds: acr.seedCredentials })).digest;

  // The operator points each kind at its stand-in, as AWS_ENDPOINT_URL_* and the two GANTRY_ settings do in production.
  Object.assign(process.env, { AWS_ENDPOINT_URL_ECR: ecr.url, AWS_ENDPOINT_URL_STS: ecr.url, GANTRY_GCP_TOKEN_URI: gar.tokenUri, GANTRY_AZURE_AUTHORITY_HOST: acr.authorityHost, GANTRY_LOG_LEVEL: "debug" });
  resetEnvForTests();
  const c = env();
  setCloudTransportForTests(
    cloudTransport({ operatorEndpoints: [c.cloud.ecrEndpoint, c.cloud.stsEndpoint, c.cloud.gcpTokenUri, c.cloud.azureAuthorityHost], allowedPrivateHosts: c.allowedPrivateHosts, extraCa: acr.ca }),
  );

  proxy = http.createServer((req, res) => void handleRegistryRequest(req, res, { clientIp: req.socket.remoteAddress ?? null }));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const { user, team } = await signUp({ email: `cloud-${stamp}@example.com`, password: "correct horse battery", teamName: "Cloud" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Cloud Suite", slug });
  const ecrReg = await createRegistry(ctx, { name: "ECR", endpoint: ecrUpstream.url, kind: "ecr", region: "us-east-1", ...ECR_KEY });
  const garReg = await createRegistry(ctx, { name: "GAR", endpoint: garUpstream.url, kind: "gar", serviceAccountKey: garKey.json });
  const acrReg = await createRegistry(ctx, { name: "ACR", endpoint: acr.endpoint, kind: "acr", tenantId: acr.tenantId, clientId: acr.clientId, clientSecret: acr.clientSecret });
  for (const [kind, reg] of [["ecr", ecrReg], ["gar", garReg], ["acr", acrReg]] as const) Object.assign(registries[kind], { id: reg.id, pathName: reg.pathName });
  // The release probes each image through the kind's minted credentials and keeps the digest it saw.
  const release = await createRelease(ctx, slug, { version: "1.0.0", images: [`${ecrUpstream.host}/acme/api:1.0.0`, `${garUpstream.host}/acme/api:1.0.0`, `${acr.service}/acme/api:1.0.0`] });
  expect(release.images.map((i) => i.digest).sort()).toEqual([registries.ecr.digest, registries.gar.digest, registries.acr.digest].sort());
  license = (await createCustomer(ctx, slug, { name: "Globex" })).license.licenseId;
}, 240_000);

afterAll(async () => {
  proxy?.close();
  setCloudTransportForTests(undefined);
  await Promise.all([ecr?.stop(), gar?.stop(), acr?.stop()]);
  await stopAll();
  cleanupImages();
  for (const k of ["AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL_STS", "GANTRY_GCP_TOKEN_URI", "GANTRY_AZURE_AUTHORITY_HOST", "GANTRY_LOG_LEVEL"]) delete process.env[k];
  resetEnvForTests();
  resetProxyCacheForTests();
  stderr.stop();
});

const auth = () => `Basic ${Buffer.from(`LICENSE_ID:${license}`).toString("base64")}`;
const manifest = (kind: keyof typeof registries) =>
  fetch(`http://${host}/v2/proxy/${slug}/${registries[kind].pathName}/acme/api/manifests/1.0.0`, { headers: { authorization: auth(), accept: MANIFEST_ACCEPT } });

async function sourceOf(kind: keyof typeof registries) {
  return credentialSource(ctx.team.id, await getRegistryRow(ctx.team.id, registries[kind].id));
}

describe("cloud registries through the proxy", () => {
  it.each(["ecr", "gar", "acr"] as const)("%s: skopeo pulls through the proxy, and Test connection mints a token that works", async (kind) => {
    const digest = await skopeoPull(`${host}/proxy/${slug}/${registries[kind].pathName}/acme/api:1.0.0`, `LICENSE_ID:${license}`);
    expect(digest).toBe(registries[kind].digest);
    const source = await sourceOf(kind); // the one the pull used
    const result = await testConnection(ctx, registries[kind].id, "acme/api:1.0.0");
    expect(result).toMatchObject({ ok: true, outcome: "ok", manifest: { status: 200, digest: registries[kind].digest } });
    expect(result.message).toMatch(/token works \(token auth\)/);
    const state = await db.registryCredentialState.findUniqueOrThrow({ where: { registryId: registries[kind].id } });
    expect(state.lastMintAt).toBeInstanceOf(Date);
    expect(state.expiresAt!.getTime()).toBeGreaterThan(Date.now());
    // The test's result does not version the registry: the same source holds the token the test minted, and the proxy pulls with it.
    expect(await sourceOf(kind)).toBe(source);
    const mints = source.mints;
    expect((await manifest(kind)).status).toBe(200);
    expect(source.mints).toBe(mints);
  });

  it("ecr: 16 concurrent pulls across several token lives mint once per life", async () => {
    // Tokens live 4 s: renewed at 3 s. 16 clients pull without pause for 10 s.
    const mintsBefore = ecr.calls().getAuthorizationToken;
    const statuses = new Map<number, number>();
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (Date.now() - started < 10_000) {
          const res = await manifest("ecr");
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      }),
    );
    const mints = ecr.calls().getAuthorizationToken - mintsBefore;
    console.log(`ecr: ${[...statuses.values()].reduce((a, b) => a + b, 0)} manifest pulls in 10 s by 16 clients, ${mints} mints (tokens of 4 s renewed at 3 s)`);
    expect([...statuses.keys()]).toEqual([200]);
    expect(mints).toBeGreaterThanOrEqual(3);
    expect(mints).toBeLessThanOrEqual(5);

  }, 60_000);

  it("gar: a token the registry refuses before it expires is re-minted once for 16 concurrent pulls, and the pulls succeed", async () => {
    const source = await sourceOf("gar");
    expect((await manifest("gar")).status).toBe(200); // a token of an hour is held
    // The registry stops accepting every password minted so far (revoked, rotated), and the registry tokens Gantry
    // holds run out (distribution honours an expired one for a minute of leeway: forgetting them is that minute).
    for (const p of seen) revoked.add(p);
    sharedTokenCache.clear();
    const before = gar.counters().mints;
    const sourceMints = source.mints;
    const burst = await Promise.all(Array.from({ length: 16 }, () => manifest("gar").then(async (r) => (await r.arrayBuffer(), r.status))));
    expect(burst).toEqual(Array(16).fill(200));
    expect(gar.counters().mints - before).toBe(1);
    expect(source.mints - sourceMints).toBe(1);
  }, 30_000);


  it.each([
    ["ecr", /AWS rejected the access key: InvalidSignatureException/],
    ["gar", /Google rejected the service-account key: invalid_grant/],
    ["acr", /Microsoft Entra rejected the client secret: AADSTS7000215/],
  ] as const)("%s: a wrong secret is reported in words in Test connection and on the registry's page; the pull gets a registry error", async (kind, words) => {
    const wrong =
      kind === "ecr"
        ? await createRegistry(ctx, { name: `ECR wrong ${stamp}`, endpoint: ecrUpstream.url, kind, region: "us-east-1", accessKeyId: ECR_KEY.accessKeyId, secretAccessKey: "not-the-secret", pathName: "ecr-wrong" })
        : kind === "gar"
          ? await createRegistry(ctx, { name: `GAR wrong ${stamp}`, endpoint: garUpstream.url, kind, serviceAccountKey: gar.createKey({ register: false }).json, pathName: "gar-wrong" })
          : await createRegistry(ctx, { name: `ACR wrong ${stamp}`, endpoint: acr.endpoint, kind, tenantId: acr.tenantId, clientId: acr.clientId, clientSecret: "not-the-secret", pathName: "acr-wrong" });
    const result = await testConnection(ctx, wrong.id);
    expect(result).toMatchObject({ ok: false, outcome: "credentials_rejected" });
    expect(result.message).toMatch(words);
    // The credential source the proxy would use for it fails with the same words.
    const source = credentialSource(ctx.team.id, await getRegistryRow(ctx.team.id, wrong.id));
    await expect(source.current()).rejects.toThrow(words);
    await new Promise((r) => setTimeout(r, 50)); // the state row is written after the failure
    const state = await db.registryCredentialState.findUniqueOrThrow({ where: { registryId: wrong.id } });
    expect(state.lastError).toMatch(words);
  });

  it("no secret and no minted token is in any response, the database or the log", async () => {
    const secrets = [ECR_KEY.secretAccessKey, acr.clientSecret, garKey.privateKeyPem.split("\n")[2] ?? "", ...seen].filter((s) => s.length >= 16);
    expect(seen.size).toBeGreaterThan(3);
    const bytes = databaseBytes();
    const log = stderr.text();
    expect(log).toContain("cloud registry credentials minted");
    const responses = JSON.stringify(await db.registry.findMany({ where: { teamId: ctx.team.id } }));
    for (const s of secrets) {
      expect(bytes.includes(Buffer.from(s)), "database").toBe(false);
      expect(log.includes(s), "log").toBe(false);
      expect(responses.includes(s), "rows").toBe(false);
    }
  });
});
