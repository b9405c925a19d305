import { execFile } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "@/lib/auth/sign-up";
import { createApp } from "@/lib/apps/apps";
import { createCustomer } from "@/lib/licenses/customers";
import { handleRegistryRequest } from "@/lib/proxy/handler";
import { createRegistry } from "@/lib/registries/registries";
import { setExtraPatterns } from "@/lib/releases/scope";
import { teamContextForUser } from "@/lib/teams/access";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";

/**
 * What the OCI distribution spec says a registry answers, where Gantry decides
 * it itself or has to pass the upstream's answer on faithfully: malformed
 * digests, invalid tags, tag-list pagination, upstream client errors.
 */
const run = promisify(execFile);
let proxy: http.Server;
let proxyHost = "";
let fake: http.Server;
let fakePort = 0;
let real: RunningRegistry;
let license = "";
const slug = `fidelity-${Date.now().toString(36)}`;
const TAGS = ["1.0", "1.1", "1.2", "2.0", "2.1"];

beforeAll(async () => {
  real = await startRegistry({ auth: "none" });
  const img = await buildImage({ files: { "f.txt": "fidelity\n" } });
  for (const tag of TAGS) await pushImage(img, { registry: real, repo: "acme/many", tag });
  fake = http.createServer((req, res) => {
    const url = req.url ?? "";
    if (url === "/v2/") return void res.writeHead(200, { "content-type": "application/json" }).end("{}");
    if (url.includes("/invalid/")) return void res.writeHead(400, { "content-type": "application/json" }).end('{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid upstream"}]}');
    if (url.includes("/range/")) return void res.writeHead(416, { "content-range": "bytes */10" }).end();
    // An upstream that paginates tag lists as the spec describes (distribution 2.8 ignores n).
    if (url.startsWith("/v2/acme/paged/tags/list")) {
      const last = new URL(url, "http://x").searchParams.get("last");
      const page = last === null ? ["1.0", "1.1"] : last === "1.1" ? ["1.2", "2.0"] : ["2.1"];
      const next = page.at(-1) === "2.1" ? {} : { link: `</v2/acme/paged/tags/list?n=2&last=${page.at(-1)}>; rel="next"` };
      return void res.writeHead(200, { "content-type": "application/json", ...next }).end(JSON.stringify({ name: "acme/paged", tags: page }));
    }
    if (url.startsWith("/v2/acme/elsewhere/tags/list")) {
      return void res.writeHead(200, { "content-type": "application/json", link: '<https://evil.example/v2/other/tags/list?n=1>; rel="next"' }).end('{"name":"acme/elsewhere","tags":["x"]}');
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => fake.listen(0, "127.0.0.1", r));
  fakePort = (fake.address() as AddressInfo).port;
  proxy = http.createServer((req, res) => void handleRegistryRequest(req, res, { clientIp: req.socket.remoteAddress ?? null }));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyHost = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const { user, team } = await signUp({ email: `fidelity-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Fidelity" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Fidelity", slug });
  await setExtraPatterns(ctx, slug, ["**"]);
  await createRegistry(ctx, { name: "Real", endpoint: real.url, username: "u", password: "p" });
  await createRegistry(ctx, { name: "Fake", endpoint: `http://127.0.0.1:${fakePort}`, username: "u", password: "p" });
  license = (await createCustomer(ctx, slug, { name: "Conformance" })).license.licenseId;
});
afterAll(async () => {
  proxy.close();
  fake.closeAllConnections();
  fake.close();
  await stopAll();
  cleanupImages();
});

const auth = () => ({ authorization: `Basic ${Buffer.from(`x:${license}`).toString("base64")}` });
const realName = () => `proxy/${slug}/127.0.0.1_${real.port}/acme/many`;
const fakeName = (repo: string) => `proxy/${slug}/127.0.0.1_${fakePort}/${repo}`;
const get = (path: string, method = "GET", headers: Record<string, string> = {}) => fetch(`http://${proxyHost}${path}`, { method, headers: { ...auth(), ...headers } });

describe("conformance cases Gantry decides itself", () => {
  it("an invalid tag is 404 MANIFEST_UNKNOWN on HEAD and GET", async () => {
    const head = await get(`/v2/${realName()}/manifests/.INVALID_MANIFEST_NAME`, "HEAD");
    expect(head.status).toBe(404);
    const res = await get(`/v2/${realName()}/manifests/.INVALID_MANIFEST_NAME`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ errors: [expect.objectContaining({ code: "MANIFEST_UNKNOWN" })] });
  });

  it("a malformed digest is 400 DIGEST_INVALID, for manifests and blobs, without asking the upstream", async () => {
    for (const path of [`/v2/${realName()}/manifests/sha256:totallywrong`, `/v2/${realName()}/blobs/sha256:totallywrong`, `/v2/${realName()}/blobs/md5:${"a".repeat(32)}`, `/v2/${realName()}/blobs/latest`]) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(await res.json()).toEqual({ errors: [expect.objectContaining({ code: "DIGEST_INVALID" })] });
    }
    // A well-formed digest nobody has is the upstream's 404.
    expect((await get(`/v2/${realName()}/blobs/sha256:${"0".repeat(64)}`)).status).toBe(404);
  });
});

describe("what the upstream says, passed on", () => {
  it("paginates tags/list with a Link rewritten to the proxied name; following it yields every tag", async () => {
    const seen: string[] = [];
    let pages = 0;
    let next: string | undefined = `/v2/${fakeName("acme/paged")}/tags/list?n=2`;
    while (next && pages < 10) {
      pages++;
      const res = await get(next);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { name: string; tags: string[] };
      expect(body.name).toBe(fakeName("acme/paged"));
      seen.push(...body.tags);
      const link = res.headers.get("link");
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
      if (next) expect(next).toMatch(new RegExp(`^/v2/${fakeName("acme/paged").replace(/[.]/g, "\\.")}/tags/list\\?n=2&last=`));
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(TAGS);
    // A link that leaves the repository is not passed on.
    const elsewhere = await get(`/v2/${fakeName("acme/elsewhere")}/tags/list`);
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.headers.get("link")).toBeNull();
  });

  it("skopeo list-tags through Gantry lists every tag", async () => {
    const { stdout } = await run("skopeo", ["list-tags", "--tls-verify=false", "--creds", `LICENSE_ID:${license}`, `docker://${proxyHost}/${realName()}`]);
    expect((JSON.parse(stdout) as { Tags: string[] }).Tags.sort()).toEqual([...TAGS].sort());
  });

  it("passes other upstream 4xx answers on in the registry format instead of 502", async () => {
    const invalid = await get(`/v2/${fakeName("acme/invalid")}/manifests/1`);
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({ errors: [expect.objectContaining({ code: "MANIFEST_INVALID", message: expect.stringContaining("manifest invalid upstream") })] });
    const range = await get(`/v2/${fakeName("acme/range")}/blobs/sha256:${"1".repeat(64)}`, "GET", { range: "bytes=100-200" });
    expect(range.status).toBe(416);
    expect(await range.json()).toEqual({ errors: [expect.objectContaining({ code: "UNSUPPORTED", message: expect.stringContaining("416") })] });
  });
});
