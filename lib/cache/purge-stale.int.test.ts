import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { resetProxyCacheForTests } from "@/lib/cache/cache";
import { db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { createCustomer } from "@/lib/licenses/customers";
import { handleRegistryRequest } from "@/lib/proxy/handler";
import { createRegistry } from "@/lib/registries/registries";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { setExtraPatterns } from "@/lib/releases/scope";
import { teamContextForUser } from "@/lib/teams/access";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";

/**
 * `gantry cache purge` deletes the tag records with the rest of the cache. The
 * proxy writes an unchanged tag at most once a minute; a tag pulled again
 * within that minute of a purge must still be recorded, so that an upstream
 * outage right after serves it stale instead of 502. The purge runs as the
 * operator runs it: the CLI, another process than the proxy's.
 */
const run = promisify(execFile);
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-purge-stale-"));
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-purge-stale-pulls-"));
const slug = `purge-stale-${Date.now().toString(36)}`;
let upstream: RunningRegistry;
let proxy: http.Server;
let proxyHost = "";
let license = "";
let registryId = "";
let imageDigest = "";

beforeAll(async () => {
  process.env.GANTRY_CACHE_DIR = cacheDir;
  resetEnvForTests();
  resetProxyCacheForTests();
  upstream = await startRegistry({ auth: "none" });
  ({ digest: imageDigest } = await pushImage(await buildImage({ files: { "purge.txt": "purged and pulled again\n" } }), { registry: upstream, repo: "acme/app", tag: "1" }));
  proxy = http.createServer((req, res) => void handleRegistryRequest(req, res, { clientIp: req.socket.remoteAddress ?? null }));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyHost = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  const { user, team } = await signUp({ email: `purge-stale-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Purge stale" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Purge stale", slug });
  await setExtraPatterns(ctx, slug, ["**"]);
  registryId = (await createRegistry(ctx, { name: "Upstream", endpoint: upstream.url, username: "u", password: "p" })).id;
  license = (await createCustomer(ctx, slug, { name: "Puller" })).license.licenseId;
});

afterAll(async () => {
  proxy.close();
  await stopAll();
  cleanupImages();
  delete process.env.GANTRY_CACHE_DIR;
  resetEnvForTests();
  resetProxyCacheForTests();
  fs.rmSync(cacheDir, { recursive: true, force: true });
  fs.rmSync(scratch, { recursive: true, force: true });
});

const image = () => `${proxyHost}/proxy/${slug}/127.0.0.1_${upstream.port}/acme/app`;
let pulls = 0;
/** A whole pull by skopeo through the proxy (manifest by tag, config, layers). */
async function pull(ref: string): Promise<void> {
  const dir = path.join(scratch, String(pulls++));
  await run("skopeo", ["copy", "--src-tls-verify=false", "--src-creds", `LICENSE_ID:${license}`, `docker://${ref}`, `oci:${dir}:x`], { maxBuffer: 16 * 1024 * 1024 });
}
const tagRecord = () => db.cacheTag.findUnique({ where: { registryId_repository_tag: { registryId, repository: "acme/app", tag: "1" } } });

describe("a tag pulled again within a minute of a purge", () => {
  it("is recorded again, so an upstream outage right after serves it from the cache (not 502)", async () => {
    await pull(`${image()}:1`);
    await expect.poll(tagRecord).toMatchObject({ digest: imageDigest });

    const { stdout } = await run("npm", ["run", "-s", "gantry", "--", "cache", "purge"], { env: { ...process.env, GANTRY_CACHE_DIR: cacheDir } });
    expect(JSON.parse(stdout.trim())).toMatchObject({ scope: "all", tags: expect.any(Number) as number });
    expect(await tagRecord()).toBeNull();

    // Cold: the first fetches the manifest and blobs upstream again (the tag is written
    // then, long before the third is done), the next two are served from the refilled cache.
    for (let i = 0; i < 3; i++) await pull(`${image()}:1`);

    await upstream.stop();
    try {
      const byTag = await fetch(`http://${proxyHost}/v2/proxy/${slug}/127.0.0.1_${upstream.port}/acme/app/manifests/1`, {
        headers: { authorization: `Basic ${Buffer.from(`LICENSE_ID:${license}`).toString("base64")}`, accept: MANIFEST_ACCEPT },
      });
      expect(byTag.status).toBe(200);
      expect(byTag.headers.get("docker-content-digest")).toBe(imageDigest);
      await pull(`${image()}:1`); // the whole image, from the cache alone
      expect(fs.existsSync(path.join(scratch, String(pulls - 1), "index.json"))).toBe(true);
      expect(await tagRecord()).toMatchObject({ digest: imageDigest });
    } finally {
      await upstream.restart();
    }
  });
});
