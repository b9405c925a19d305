import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "@/lib/api-tokens/tokens";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { teamContextForUser } from "@/lib/teams/access";
import { startTestHostedRegistry, type TestHostedRegistry } from "@/lib/testing/hosted-registry";
import { buildImage, cleanupImages } from "@/lib/testing/registries/images";
import { EmbeddedDistribution, findDistributionBinary } from "./distribution";
import { startHostedRegistry, type HostedRegistry } from "./service";
import { loadSigningKey } from "./signing";

const run = promisify(execFile);

/**
 * The storage engine's life: the embedded distribution comes back after it
 * dies; an operator-run distribution (GANTRY_REGISTRY_BACKEND) trusting
 * Gantry's certificate works the same through Gantry (blobs relayed over HTTP,
 * not read from files); without distribution installed, the registry stays
 * off with a message that says how to enable it.
 */
const stamp = Date.now().toString(36);
const slug = `engine-${stamp}`;
let token = "";
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-engine-"));
  dirs.push(d);
  return d;
};
const basic = () => `Basic ${Buffer.from(`${token}:${token}`).toString("base64")}`;

beforeAll(async () => {
  const { user, team } = await signUp({ email: `engine-${stamp}@example.com`, password: "correct horse battery staple", teamName: "Engine" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Engine", slug });
  token = (await createApiToken(ctx, { name: "ci", role: "admin" })).token;
});

afterAll(() => {
  cleanupImages();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function pushAndPull(host: string, repo: string): Promise<void> {
  const image = await buildImage({ files: { [`${repo}.txt`]: `${repo} ${stamp}\n` } });
  await run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", `${token}:${token}`, `oci:${image.layoutDir}:${image.tag}`, `docker://${host}/${slug}/${repo}:1`]);
  const out = path.join(tmp(), "out");
  await run("skopeo", ["copy", "--quiet", "--src-tls-verify=false", "--src-creds", `${token}:${token}`, `docker://${host}/${slug}/${repo}:1`, `oci:${out}:1`]);
  expect(fs.readdirSync(path.join(out, "blobs", "sha256")).length).toBe(3); // manifest, config, layer
}

describe("the embedded storage engine", () => {
  let reg: TestHostedRegistry;
  afterAll(async () => reg?.stop());

  it("is restarted when it dies, and serves again", async () => {
    reg = await startTestHostedRegistry();
    await pushAndPull(reg.host, "before");
    const pid = reg.registry.storagePid();
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, "SIGKILL");
    // A request while it restarts waits for it (within 10 s) rather than failing: the manifest comes from distribution.
    const res = await fetch(`http://${reg.host}/v2/${slug}/before/manifests/1`, { headers: { authorization: basic(), accept: "application/vnd.oci.image.manifest.v1+json" } });
    expect(res.status).toBe(200);
    expect(reg.registry.storagePid()).toBeGreaterThan(0);
    expect(reg.registry.storagePid()).not.toBe(pid);
    await pushAndPull(reg.host, "after");
  }, 120_000);
});

describe("an operator-run distribution (GANTRY_REGISTRY_BACKEND)", () => {
  it("stores through Gantry with Gantry's certificate as its only trust, blobs relayed over HTTP", async () => {
    const dir = tmp();
    // The operator's distribution: its own storage, trusting the certificate Gantry signs with.
    const key = loadSigningKey(dir);
    const operator = new EmbeddedDistribution({ binary: findDistributionBinary()!, dir: path.join(dir, "operator"), certFile: key.certFile, realm: "https://unused.example/v2/token" });
    await operator.start();
    let registry: HostedRegistry | undefined;
    const server = http.createServer((req, res) => void registry?.handle(req, res, null));
    try {
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const started = await startHostedRegistry({ dir, backend: operator.url, publicHost: host, secret: "test-secret-of-at-least-32-characters!!", realmFor: (req) => ({ realm: `http://${req.headers.host}/v2/token`, service: host }) });
      if (!started.registry) throw new Error(started.reason);
      registry = started.registry;
      expect(registry.distributionConfigFile).toBeNull();
      expect(registry.storageOrigin()).toBe(operator.url);
      await pushAndPull(host, "backend");
      // Range from the relay path, too.
      const manifest = (await (await fetch(`http://${host}/v2/${slug}/backend/manifests/1`, { headers: { authorization: basic(), accept: "application/vnd.oci.image.manifest.v1+json" } })).json()) as { layers: { digest: string; size: number }[] };
      const layer = manifest.layers[0]!;
      const part = await fetch(`http://${host}/v2/${slug}/backend/blobs/${layer.digest}`, { headers: { authorization: basic(), range: "bytes=0-9" } });
      expect([part.status, part.headers.get("content-range")]).toEqual([206, `bytes 0-9/${layer.size}`]);
    } finally {
      server.closeAllConnections();
      server.close();
      await registry?.stop();
      await operator.stop();
    }
  }, 120_000);
});

describe("without distribution installed", () => {
  it("stays off and says how to enable it", async () => {
    const saved = process.env.PATH;
    process.env.PATH = tmp(); // a PATH where no docker-registry is found
    try {
      const started = await startHostedRegistry({ dir: tmp(), publicHost: undefined, secret: "test-secret-of-at-least-32-characters!!", realmFor: () => ({ realm: "", service: "" }) });
      expect(started.registry).toBeNull();
      expect(started.registry === null && started.reason).toMatch(/apt-get install docker-registry.*GANTRY_REGISTRY_BACKEND/);
    } finally {
      process.env.PATH = saved;
    }
  });
});
