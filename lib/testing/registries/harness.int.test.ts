import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MANIFEST_ACCEPT } from "@/lib/registry-client/media-types";
import { startRegistry, stopAll, type RunningRegistry } from "./harness";
import { buildImage, buildMultiArchIndex, cleanupImages, pushImage } from "./images";

/** The harness itself: real registries behave as ../shared/REGISTRIES.md says. */
describe("registry test harness", () => {
  let open: RunningRegistry;
  let basic: RunningRegistry;
  let token: RunningRegistry;

  beforeAll(async () => {
    [open, basic, token] = await Promise.all([
      startRegistry({ auth: "none" }),
      startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } }),
      startRegistry({ auth: "token", users: { bob: "bob-pw" } }),
    ]);
    const img = await buildImage({ files: { "a.txt": "harness\n" } });
    await Promise.all([
      pushImage(img, { registry: open, repo: "team/app", tag: "v1" }),
      pushImage(img, { registry: basic, repo: "team/app", tag: "v1", creds: "alice:alice-pw" }),
      pushImage(img, { registry: token, repo: "private/app", tag: "v1", creds: "bob:bob-pw" }),
      pushImage(img, { registry: token, repo: "public/app", tag: "v1", creds: "bob:bob-pw" }),
    ]);
  });
  afterAll(async () => {
    await stopAll();
    cleanupImages();
  });

  it("serves anonymous pulls without auth, and logs each request", async () => {
    await open.flushRequests();
    const res = await fetch(`${open.url}/v2/team/app/manifests/v1`, { headers: { accept: MANIFEST_ACCEPT } });
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-content-digest")).toMatch(/^sha256:/);
    await expect.poll(() => open.requests()).toContainEqual({ method: "GET", path: "/v2/team/app/manifests/v1", status: 200 });
  });

  it("asks for Basic credentials on htpasswd, even for missing repos", async () => {
    const anon = await fetch(`${basic.url}/v2/nope/manifests/v1`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get("www-authenticate")).toMatch(/^Basic realm="basic-realm"/);
    const auth = { authorization: `Basic ${Buffer.from("alice:alice-pw").toString("base64")}`, accept: MANIFEST_ACCEPT };
    expect((await fetch(`${basic.url}/v2/team/app/manifests/v1`, { headers: auth })).status).toBe(200);
  });

  it("runs a Docker-Hub-style token flow: anonymous pull on public/, users everywhere", async () => {
    const ts = token.tokenServer;
    if (!ts) throw new Error("token registry without token server");
    const anon = await fetch(`${token.url}/v2/private/app/manifests/v1`, { headers: { accept: MANIFEST_ACCEPT } });
    expect(anon.status).toBe(401);
    expect(anon.headers.get("www-authenticate")).toContain(`Bearer realm="${ts.realm}",service="${ts.service}",scope="repository:private/app:pull"`);

    const tokenFor = async (scope: string, creds?: string) => {
      const res = await fetch(`${ts.realm}?service=${ts.service}&scope=${scope}`, creds ? { headers: { authorization: `Basic ${Buffer.from(creds).toString("base64")}` } } : {});
      expect(res.status).toBe(200);
      return ((await res.json()) as { token: string }).token;
    };
    const anonPrivate = await fetch(`${token.url}/v2/private/app/manifests/v1`, {
      headers: { accept: MANIFEST_ACCEPT, authorization: `Bearer ${await tokenFor("repository:private/app:pull")}` },
    });
    expect(anonPrivate.status).toBe(401);
    expect(anonPrivate.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    const anonPublic = await fetch(`${token.url}/v2/public/app/manifests/v1`, {
      headers: { accept: MANIFEST_ACCEPT, authorization: `Bearer ${await tokenFor("repository:public/app:pull")}` },
    });
    expect(anonPublic.status).toBe(200);
    const user = await fetch(`${token.url}/v2/private/app/manifests/v1`, {
      headers: { accept: MANIFEST_ACCEPT, authorization: `Bearer ${await tokenFor("repository:private/app:pull", "bob:bob-pw")}` },
    });
    expect(user.status).toBe(200);
    expect((await fetch(`${ts.realm}?service=${ts.service}`, { headers: { authorization: `Basic ${Buffer.from("bob:wrong").toString("base64")}` } })).status).toBe(401);
    expect(ts.requests().filter((r) => r.authenticated).length).toBeGreaterThan(0);
  });

  it("pushes a multi-arch OCI index with --all and serves it back as an index", async () => {
    const index = await buildMultiArchIndex();
    const { digest } = await pushImage(index, { registry: open, repo: "team/multi", tag: "v1", all: true });
    const res = await fetch(`${open.url}/v2/team/multi/manifests/v1`, { headers: { accept: MANIFEST_ACCEPT } });
    expect(res.headers.get("content-type")).toBe("application/vnd.oci.image.index.v1+json");
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    const body = (await res.json()) as { manifests: { platform: { architecture: string } }[] };
    expect(body.manifests.map((m) => m.platform.architecture).sort()).toEqual(["amd64", "arm64"]);
  });

  it("stop() frees the port and restart() brings the same data back", async () => {
    await open.stop();
    await expect(fetch(`${open.url}/v2/`)).rejects.toThrow();
    await open.restart();
    expect((await fetch(`${open.url}/v2/team/app/manifests/v1`, { headers: { accept: MANIFEST_ACCEPT } })).status).toBe(200);
  });
});
