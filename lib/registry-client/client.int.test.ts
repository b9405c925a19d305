import net from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { clearChallengeCache, defaultHttpOptions, RegistryClient } from "@/lib/registry-client/client";
import { RegistryNetworkError } from "@/lib/registry-client/errors";
import { TokenCache } from "@/lib/registry-client/token-cache";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, buildMultiArchIndex, cleanupImages, pushImage } from "@/lib/testing/registries/images";

const http = defaultHttpOptions(["127.0.0.1/32"]);
let open: RunningRegistry;
let basic: RunningRegistry;
let token: RunningRegistry;
let digest: string;

beforeAll(async () => {
  [open, basic, token] = await Promise.all([
    startRegistry({ auth: "none" }),
    startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } }),
    startRegistry({ auth: "token", users: { bob: "bob-pw" } }),
  ]);
  const img = await buildImage({ files: { "c.txt": "client\n" } });
  ({ digest } = await pushImage(img, { registry: open, repo: "acme/app", tag: "v1" }));
  await pushImage(img, { registry: basic, repo: "acme/app", tag: "v1", creds: "alice:alice-pw" });
  await pushImage(img, { registry: token, repo: "private/app", tag: "v1", creds: "bob:bob-pw" });
  await pushImage(img, { registry: token, repo: "public/app", tag: "v1", creds: "bob:bob-pw" });
  await pushImage(await buildMultiArchIndex(), { registry: token, repo: "private/multi", tag: "v1", creds: "bob:bob-pw", all: true });
});
afterAll(async () => {
  await stopAll();
  cleanupImages();
});
beforeEach(async () => {
  clearChallengeCache();
  for (const r of [open, basic, token]) {
    await r.flushRequests();
    r.tokenServer?.clearRequests();
  }
});

describe("RegistryClient against real registries", () => {
  it("no auth: HEAD and GET a manifest with type, digest and size", async () => {
    const c = new RegistryClient({ endpoint: open.url, http });
    const head = await c.manifest("acme/app", "v1", "HEAD");
    expect(head).toMatchObject({ status: 200, mediaType: "application/vnd.oci.image.manifest.v1+json", digest });
    expect(head.size).toBeGreaterThan(100);
    const get = await c.manifest("acme/app", digest, "GET");
    expect(get.body?.length).toBe(head.size);
    expect(await c.checkAuth()).toEqual({ kind: "ok", scheme: "none", status: 200 });
  });

  it("htpasswd: follows the Basic challenge, then sends credentials up front", async () => {
    const c = new RegistryClient({ endpoint: basic.url, http, credentials: { username: "alice", password: "alice-pw" } });
    expect((await c.manifest("acme/app", "v1")).status).toBe(200);
    expect((await c.manifest("acme/app", "v1")).status).toBe(200);
    // first call: 401 + retry; second call: credentials already on the first request
    await expect.poll(() => basic.requests().map((r) => r.status)).toEqual([401, 200, 200]);
    expect(await c.checkAuth()).toMatchObject({ kind: "ok", scheme: "basic" });
    const wrong = new RegistryClient({ endpoint: basic.url, http, credentials: { username: "alice", password: "nope" } });
    expect((await wrong.manifest("acme/app", "v1")).status).toBe(401);
    expect(await wrong.checkAuth()).toMatchObject({ kind: "rejected", scheme: "basic" });
    expect((await new RegistryClient({ endpoint: basic.url, http }).manifest("acme/app", "v1")).status).toBe(401);
  });

  it("token auth: anonymous public pull, private refused with insufficient_scope, user allowed", async () => {
    const cache = new TokenCache();
    const anon = new RegistryClient({ endpoint: token.url, http, tokenCache: cache });
    expect((await anon.manifest("public/app", "v1")).status).toBe(200);
    const denied = await anon.manifest("private/app", "v1");
    expect(denied).toMatchObject({ status: 401, authError: "insufficient_scope" });
    const user = new RegistryClient({ endpoint: token.url, http, tokenCache: cache, credentials: { username: "bob", password: "bob-pw" } });
    expect((await user.manifest("private/app", "v1")).status).toBe(200);
    const idx = await user.manifest("private/multi", "v1", "GET");
    expect(idx.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    const wrong = new RegistryClient({ endpoint: token.url, http, tokenCache: cache, credentials: { username: "bob", password: "bad" } });
    expect(await wrong.checkAuth()).toMatchObject({ kind: "rejected", scheme: "bearer", status: 401 });
    expect(await user.checkAuth()).toMatchObject({ kind: "ok", scheme: "bearer" });
  });

  it("token auth: reuses tokens per scope, counted in the registry's and token server's logs", async () => {
    const cache = new TokenCache();
    const user = new RegistryClient({ endpoint: token.url, http, tokenCache: cache, credentials: { username: "bob", password: "bob-pw" } });
    for (let i = 0; i < 5; i++) expect((await user.manifest("private/app", "v1")).status).toBe(200);
    // one token for the scope; one 401 to learn the challenge; then 5 authorized HEADs
    expect(token.tokenServer?.requests().filter((r) => r.scopes.includes("repository:private/app:pull"))).toHaveLength(1);
    await expect.poll(() => token.requests().filter((r) => r.path === "/v2/private/app/manifests/v1").map((r) => r.status)).toEqual([401, 200, 200, 200, 200, 200]);

    // concurrent requests for a new scope share one token fetch
    token.tokenServer?.clearRequests();
    await Promise.all(Array.from({ length: 8 }, () => user.manifest("private/multi", "v1")));
    expect(token.tokenServer?.requests()).toHaveLength(1);

    // without reuse, every request fetches a token
    token.tokenServer?.clearRequests();
    const noReuse = new RegistryClient({ endpoint: token.url, http, credentials: { username: "bob", password: "bob-pw" }, reuseTokens: false });
    for (let i = 0; i < 3; i++) await noReuse.manifest("private/app", "v1");
    expect(token.tokenServer?.requests()).toHaveLength(3);
  });

  it("never sends credentials to a token realm outside the registry's trust boundary", async () => {
    // Registry on 127.0.0.1, its token realm on 127.0.0.2: another host.
    const foreign = await startRegistry({ auth: "token", users: { bob: "bob-pw" }, realmHost: "127.0.0.2" });
    await pushImage(await buildImage({ files: { "c.txt": "client\n" } }), { registry: foreign, repo: "private/app", tag: "v1", creds: "bob:bob-pw" });
    foreign.tokenServer?.clearRequests();
    const wide = defaultHttpOptions(["127.0.0.0/8"]);
    const c = new RegistryClient({ endpoint: foreign.url, http: wide, tokenCache: new TokenCache(), credentials: { username: "bob", password: "bob-pw" } });
    // The operator allowed 127.0.0.0/8 for registries that name it; a realm of another host gets only
    // public addresses, so the untrusted realm on 127.0.0.2 is not even contacted.
    const err = await c.manifest("private/app", "v1").catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "blocked", message: expect.stringMatching(/127\.0\.0\.2:\d+ is blocked by the SSRF guard/) });
    expect(foreign.tokenServer?.requests()).toHaveLength(0);
    const trusted = new RegistryClient({
      endpoint: foreign.url,
      http: wide,
      tokenCache: new TokenCache(),
      credentials: { username: "bob", password: "bob-pw" },
      trustedRealmHosts: ["127.0.0.2"],
    });
    expect((await trusted.manifest("private/app", "v1")).status).toBe(200);
  });

  it("reports a dead port as TCP, a blocked address as blocked, plain http outside the allowlist as blocked", async () => {
    const dead = new RegistryClient({ endpoint: "http://127.0.0.1:1", http });
    await expect(dead.checkAuth()).rejects.toMatchObject({ kind: "tcp" });
    const guarded = new RegistryClient({ endpoint: `https://127.0.0.1:${open.port}`, http: defaultHttpOptions([]) });
    await expect(guarded.checkAuth()).rejects.toMatchObject({ kind: "blocked" });
    expect(() => new RegistryClient({ endpoint: open.url, http: defaultHttpOptions([]) })).toThrow(RegistryNetworkError);
    const metadata = new RegistryClient({ endpoint: "https://169.254.169.254", http: defaultHttpOptions(["127.0.0.1/32"]) });
    await expect(metadata.checkAuth()).rejects.toMatchObject({ kind: "blocked" });
  });

  it("says which failure it was: DNS, TLS or a timeout", async () => {
    const dns = new RegistryClient({ endpoint: "https://no-such-registry.invalid", http });
    await expect(dns.checkAuth()).rejects.toMatchObject({ kind: "dns" });
    // TLS to a plain-HTTP port
    const tls = new RegistryClient({ endpoint: `https://${open.host}`, http });
    await expect(tls.checkAuth()).rejects.toMatchObject({ kind: "tls" });
    // A server that accepts and never answers
    const sockets: net.Socket[] = [];
    const stall = net.createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => stall.listen(0, "127.0.0.1", r));
    const port = (stall.address() as net.AddressInfo).port;
    try {
      const slow = new RegistryClient({ endpoint: `http://127.0.0.1:${port}`, http: { ...http, headersTimeoutMs: 300 } });
      const started = Date.now();
      await expect(slow.checkAuth()).rejects.toMatchObject({ kind: "timeout" });
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      sockets.forEach((s) => s.destroy());
      stall.close();
    }
  });
});
