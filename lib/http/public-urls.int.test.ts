import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { db } from "@/lib/db";
import { createCustomer } from "@/lib/licenses/customers";
import { createRegistry } from "@/lib/registries/registries";
import { setExtraPatterns } from "@/lib/releases/scope";
import { teamContextForUser } from "@/lib/teams/access";
import { startContainerd, stopAllContainerd, type RunningContainerd } from "@/lib/testing/containerd";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";
import { freePort } from "@/lib/testing/registries/ports";

/**
 * The token realm Gantry sends, and real clients (skopeo, containerd) pulling
 * with it, for each way a Gantry is reached. Each case runs the real server
 * (lib/testing/gantry-server.ts: lib/server/http-server.ts with the portal
 * stubbed) as a child process with its own public URL:
 *
 * - plain http, GANTRY_PROXY_URL=http://127.0.0.1:<port>: realm http, pulls work;
 * - the deprecated GANTRY_PROXY_DOMAIN=127.0.0.1:<port> on the same plain-http
 *   setup: read as https (what it meant before), so the realm is https and a
 *   plain-http client cannot reach it: the failure issue 13 reported;
 * - https terminated in front: a TLS reverse proxy (node:https, a CA and a
 *   certificate made with the openssl CLI) forwarding with X-Forwarded-Proto
 *   and the original Host, Gantry trusting loopback as its proxy;
 * - a client that reached Gantry under another name than its public URL.
 */
const run = promisify(execFile);
let upstream: RunningRegistry;
let cd: RunningContainerd;
let licenseId = "";
let repo = "";
let imageDigest = "";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-public-urls-"));
const children: ChildProcess[] = [];

interface Gantry {
  port: number;
  /** Everything the server printed (start-up line, warnings). */
  output(): string;
}

/** The real server as a child process, with these variables on top of the integration environment (undefined: unset). */
async function startGantry(port: number, vars: Record<string, string | undefined>): Promise<Gantry> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    GANTRY_LOG_LEVEL: "warn",
    GANTRY_COUNT_DB_QUERIES: "0",
    // Each server keeps its own cache, as replicas do.
    GANTRY_CACHE_DIR: fs.mkdtempSync(path.join(tmp, "cache-")),
  };
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawn(process.execPath, ["--import", "tsx", "--require", "./lib/ops/server-only-shim.cjs", "lib/testing/gantry-server.ts", "--serve"], {
    cwd: process.cwd(),
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
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
    child.once("exit", (code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}:\n${output}`));
    });
  });
  return { port, output: () => output };
}

/** The WWW-Authenticate of an anonymous GET /v2/ sent to `port` with this Host header. */
function challenge(port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/v2/", headers: { host }, agent: false }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 401 ? resolve(String(res.headers["www-authenticate"])) : reject(new Error(`expected 401, got ${res.statusCode}`))));
      })
      .on("error", reject);
  });
}

const bearer = (realm: string, service: string) => `Bearer realm="${realm}",service="${service}"`;

/** skopeo copy through Gantry into an OCI layout; resolves to the digest it copied. */
async function skopeoPull(ref: string, tls: string[]): Promise<string> {
  const dir = fs.mkdtempSync(path.join(tmp, "pull-"));
  await run("skopeo", ["copy", ...tls, "--src-creds", `LICENSE_ID:${licenseId}`, "--digestfile", `${dir}/digest`, `docker://${ref}`, `oci:${dir}/out:1`], { maxBuffer: 16 * 1024 * 1024 });
  return fs.readFileSync(`${dir}/digest`, "utf8").trim();
}

/** A CA and a certificate for localhost and 127.0.0.1 signed by it, made with the openssl CLI. */
function makeCertificates(dir: string): { caDir: string; caFile: string; key: string; cert: string } {
  const caDir = path.join(dir, "ca");
  fs.mkdirSync(caDir);
  const caFile = path.join(caDir, "ca.crt");
  const o = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  o(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", caFile, "-days", "2", "-subj", "/CN=Gantry test CA"]);
  o(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]);
  fs.writeFileSync(path.join(dir, "ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n");
  o(["x509", "-req", "-in", "server.csr", "-CA", caFile, "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf"]);
  return { caDir, caFile, key: fs.readFileSync(path.join(dir, "server.key"), "utf8"), cert: fs.readFileSync(path.join(dir, "server.crt"), "utf8") };
}

/** A TLS-terminating reverse proxy in front of Gantry: keeps the Host, adds X-Forwarded-Proto/-For, records what passed. */
function startTlsFront(key: string, cert: string, backendPort: number): Promise<{ server: https.Server; port: number; log: { path: string; status: number; wwwAuthenticate?: string }[] }> {
  const log: { path: string; status: number; wwwAuthenticate?: string }[] = [];
  const server = https.createServer({ key, cert }, (req, res) => {
    const upstreamReq = http.request(
      {
        host: "127.0.0.1",
        port: backendPort,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, "x-forwarded-proto": "https", "x-forwarded-for": req.socket.remoteAddress ?? "" },
        agent: false,
      },
      (up) => {
        const wwwAuthenticate = up.headers["www-authenticate"];
        log.push({ path: (req.url ?? "").split("?")[0] ?? "", status: up.statusCode ?? 0, ...(wwwAuthenticate ? { wwwAuthenticate: String(wwwAuthenticate) } : {}) });
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstreamReq.on("error", () => res.writeHead(502).end());
    req.pipe(upstreamReq);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as AddressInfo).port, log })));
}

beforeAll(async () => {
  [upstream, cd] = await Promise.all([startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } }), startContainerd()]);
  ({ digest: imageDigest } = await pushImage(await buildImage({ files: { "urls.txt": "public urls\n" } }), { registry: upstream, repo: "acme/urls", tag: "1", creds: "alice:alice-pw" }));
  const slug = `urls-${Date.now().toString(36)}`;
  const { user, team } = await signUp({ email: `urls-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Public URLs" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "URLs", slug });
  await setExtraPatterns(ctx, slug, ["**"]);
  await createRegistry(ctx, { name: "Up", endpoint: upstream.url, username: "alice", password: "alice-pw" });
  licenseId = (await createCustomer(ctx, slug, { name: "URL customer" })).license.licenseId;
  repo = `proxy/${slug}/127.0.0.1_${upstream.port}/acme/urls:1`;
}, 180_000);

beforeEach(async () => {
  await cd?.reset();
  // Other files' failed logins from 127.0.0.1 must not turn a 401 into a 429 here.
  await db.rateLimitBucket.deleteMany({ where: { key: { startsWith: "proxy-auth:" } } });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await stopAllContainerd();
  await stopAll();
  cleanupImages();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("plain http (a lab install on an internal name)", () => {
  it("GANTRY_PROXY_URL=http://…: the realm is http on that host, and skopeo and containerd pull", async () => {
    const port = await freePort();
    const gantry = await startGantry(port, { GANTRY_PROXY_URL: `http://127.0.0.1:${port}`, GANTRY_PROXY_DOMAIN: undefined });
    expect(gantry.output()).not.toContain("deprecated");
    const host = `127.0.0.1:${port}`;
    expect(await challenge(port, host)).toBe(bearer(`http://${host}/v2/token`, host));

    expect(await skopeoPull(`${host}/${repo}`, ["--src-tls-verify=false"])).toBe(imageDigest);
    const ctr = await cd.pull(`${host}/${repo}`, { user: `LICENSE_ID:${licenseId}`, plainHttp: true });
    expect(ctr.code, ctr.stderr).toBe(0);
    expect((await cd.image(`${host}/${repo}`)).target.digest).toBe(imageDigest);
  }, 120_000);

  it("the deprecated GANTRY_PROXY_DOMAIN still means https: a deprecation warning, an https realm, and containerd cannot follow it over plain http", async () => {
    const port = await freePort();
    const gantry = await startGantry(port, { GANTRY_PROXY_URL: undefined, GANTRY_PROXY_DOMAIN: `127.0.0.1:${port}` });
    const host = `127.0.0.1:${port}`;
    expect(gantry.output()).toContain(`GANTRY_PROXY_DOMAIN is deprecated: set GANTRY_PROXY_URL=https://${host} (or http://${host} for plain http) instead.`);
    // What issue 13 hit: the realm says https although this Gantry speaks plain http.
    expect(await challenge(port, host)).toBe(bearer(`https://${host}/v2/token`, host));
    const ctr = await cd.pull(`${host}/${repo}`, { user: `LICENSE_ID:${licenseId}`, plainHttp: true });
    expect(ctr.code).not.toBe(0);
    expect(ctr.stderr).toContain("server gave HTTP response to HTTPS client");
  }, 120_000);
});

describe("https terminated in front of Gantry", () => {
  it("the realm is https on the name the client used, and skopeo (--src-cert-dir) and containerd (hosts.toml with the CA) pull through the TLS proxy", async () => {
    const certs = makeCertificates(fs.mkdtempSync(path.join(tmp, "tls-")));
    const port = await freePort();
    // The front's port must be known before Gantry starts (it is Gantry's public URL): bind it first.
    const front = await startTlsFront(certs.key, certs.cert, port);
    const publicHost = `localhost:${front.port}`;
    await startGantry(port, { GANTRY_PROXY_URL: `https://${publicHost}`, GANTRY_PROXY_DOMAIN: undefined, GANTRY_TRUST_PROXY: "127.0.0.1/32" });
    try {
      expect(await skopeoPull(`${publicHost}/${repo}`, ["--src-cert-dir", certs.caDir])).toBe(imageDigest);
      expect(front.log.find((r) => r.wwwAuthenticate)?.wwwAuthenticate).toMatch(new RegExp(`^Bearer realm="https://${publicHost}/v2/token",service="${publicHost}"`));
      // The token request went through the TLS front too.
      expect(front.log.some((r) => r.path === "/v2/token" && r.status === 200)).toBe(true);

      // Another name through the same front (its certificate also names 127.0.0.1): the trusted
      // X-Forwarded-Proto makes the realm https there too.
      front.log.splice(0);
      const otherName = `127.0.0.1:${front.port}`;
      // ctr speaks plain http to localhost and 127.0.0.1 unless a hosts.toml says https (with the CA).
      const hostsDir = path.join(tmp, "hosts.d");
      fs.mkdirSync(path.join(hostsDir, otherName), { recursive: true });
      fs.writeFileSync(path.join(hostsDir, otherName, "hosts.toml"), `server = "https://${otherName}"\n\n[host."https://${otherName}"]\n  capabilities = ["pull", "resolve"]\n  ca = "${certs.caFile}"\n`);
      const ctr = await cd.ctr(["images", "pull", "--snapshotter", "native", "--hosts-dir", hostsDir, "--user", `LICENSE_ID:${licenseId}`, `${otherName}/${repo}`]);
      expect(ctr.code, ctr.stderr).toBe(0);
      expect((await cd.image(`${otherName}/${repo}`)).target.digest).toBe(imageDigest);
      expect(front.log.find((r) => r.wwwAuthenticate)?.wwwAuthenticate).toMatch(new RegExp(`^Bearer realm="https://${otherName}/v2/token",service="${publicHost}"`));
    } finally {
      front.server.close();
    }
  }, 120_000);
});

describe("a client that reached Gantry under another name", () => {
  it("gets a realm on the name it used, with that connection's scheme, and pulls", async () => {
    const port = await freePort();
    await startGantry(port, { GANTRY_PROXY_URL: "https://gantry.example.com", GANTRY_PROXY_DOMAIN: undefined });
    const host = `127.0.0.1:${port}`;
    expect(await challenge(port, host)).toBe(bearer(`http://${host}/v2/token`, "gantry.example.com"));
    // Under its public name the realm is that URL's.
    expect(await challenge(port, "gantry.example.com")).toBe(bearer("https://gantry.example.com/v2/token", "gantry.example.com"));

    expect(await skopeoPull(`${host}/${repo}`, ["--src-tls-verify=false"])).toBe(imageDigest);
    const ctr = await cd.pull(`${host}/${repo}`, { user: `LICENSE_ID:${licenseId}`, plainHttp: true });
    expect(ctr.code, ctr.stderr).toBe(0);
    expect((await cd.image(`${host}/${repo}`)).target.digest).toBe(imageDigest);
  }, 120_000);
});
