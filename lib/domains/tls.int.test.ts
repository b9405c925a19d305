import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { setAppDomains } from "@/lib/domains/app-domains";
import { addDomain, verifyDomain } from "@/lib/domains/domains";
import { resetEnvForTests } from "@/lib/env";
import { createCustomer } from "@/lib/licenses/customers";
import { createRegistry } from "@/lib/registries/registries";
import { setExtraPatterns } from "@/lib/releases/scope";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { startCaddy, type RunningCaddy } from "@/lib/testing/caddy";
import { startContainerd, stopAllContainerd } from "@/lib/testing/containerd";
import { startTestDnsServer, type TestDnsServer } from "@/lib/testing/dns-server";
import { addHostsEntry, startDockerd, stopAllDockerd } from "@/lib/testing/dockerd";
import { startGantryServer, stopGantryServers } from "@/lib/testing/gantry-server";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";

/**
 * The whole custom-domain path for real: Debian's Caddy in front of a Gantry
 * server with on-demand TLS asking Gantry's /tls/ask and Caddy's internal CA.
 * A verified name gets a certificate on first contact, an unverified one is
 * refused in the handshake; skopeo, containerd and Docker pull over https
 * through images.acme.test with Caddy's root trusted (and nothing else), and
 * the name stops working after its TXT record is missed twice.
 *
 * Name resolution without touching the machine: curl and node take the
 * address per call; skopeo and ctr (Go, reading /etc/hosts) run in a private
 * mount namespace where a temp hosts file is bind-mounted over /etc/hosts;
 * only dockerd (a daemon in the host's namespace) needs an /etc/hosts entry,
 * added and removed by the test.
 */
const run = promisify(execFile);
const DOMAIN = "images.acme.test";
const UNVERIFIED = "unverified.acme.test";
const REGISTRY_DOMAIN = "registry.acme.test";
let dns: TestDnsServer;
let upstream: RunningRegistry;
let caddy: RunningCaddy;
let ctx: TeamContext;
let work = "";
let hostsFile = "";
let rootFile = "";
let licenseId = "";
let otherLicense = "";
let ref = "";
let domainId = "";
let txt = "";
let gantryPort = 0;
let vendorEmail = "";
const stamp = Date.now().toString(36);
const slug = `tls-${stamp}`;

/** Runs a Go client with DOMAIN (and UNVERIFIED) resolving to 127.0.0.1, in a mount namespace of its own. */
const withHosts = (cmd: string, args: string[], timeout = 120_000) =>
  run("unshare", ["--mount", "--", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', hostsFile, cmd, ...args], { timeout, maxBuffer: 64 * 1024 * 1024 });

function handshake(servername: string, ca?: string): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port: caddy.httpsPort, servername, ...(ca ? { ca } : { rejectUnauthorized: false }) }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.setTimeout(20_000, () => socket.destroy(new Error("handshake timed out")));
    socket.on("error", reject);
  });
}

/** Caddy's root in a cert dir for the clients (made once a first certificate was issued). */
async function trustedCerts(): Promise<string> {
  const dir = path.join(work, "certs");
  if (!rootFile) {
    await handshake(DOMAIN);
    fs.mkdirSync(dir, { recursive: true });
    rootFile = path.join(dir, "caddy-root.crt");
    fs.writeFileSync(rootFile, caddy.rootPem());
  }
  return dir;
}

async function skopeoCopy(license: string): Promise<void> {
  const out = path.join(work, `oci-${Math.random().toString(36).slice(2)}`);
  await withHosts("skopeo", ["--command-timeout", "90s", "copy", "--src-cert-dir", await trustedCerts(), "--src-creds", `LICENSE_ID:${license}`, `docker://${ref}`, `oci:${out}:1`]);
  expect(fs.existsSync(path.join(out, "index.json"))).toBe(true);
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-tls-"));
  dns = await startTestDnsServer();
  process.env.GANTRY_DNS_SERVERS = dns.address;
  resetEnvForTests();
  upstream = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
  await pushImage(await buildImage({ files: { "tls.txt": "pulled over https on the vendor's own name\n" } }), { registry: upstream, repo: "acme/api", tag: "1", creds: "alice:alice-pw" });

  const { user, team } = await signUp({ email: `tls-${stamp}@example.com`, password: "correct horse battery", teamName: "Acme" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  await createApp(ctx, { name: "Acme", slug });
  await setExtraPatterns(ctx, slug, ["**"]);
  await createRegistry(ctx, { name: "Up", endpoint: upstream.url, username: "alice", password: "alice-pw" });
  licenseId = (await createCustomer(ctx, slug, { name: "Initech" })).license.licenseId;
  const other = await signUp({ email: `tls-b-${stamp}@example.com`, password: "correct horse battery", teamName: "Globex" });
  const otherCtx = await teamContextForUser(other.user, other.team.slug, "team:view");
  await createApp(otherCtx, { name: "Globex", slug: `tls-b-${stamp}` });
  await setExtraPatterns(otherCtx, `tls-b-${stamp}`, ["**"]);
  await createRegistry(otherCtx, { name: "Up", endpoint: upstream.url, username: "alice", password: "alice-pw" });
  otherLicense = (await createCustomer(otherCtx, `tls-b-${stamp}`, { name: "Globex customer" })).license.licenseId;

  const d = await addDomain(ctx, { name: DOMAIN, service: "proxy" });
  domainId = d.id;
  txt = d.verification.value;
  dns.set(`_gantry-challenge.${DOMAIN}`, "TXT", [txt]);
  expect((await verifyDomain(ctx, d.id)).status).toBe("verified");
  await setAppDomains(ctx, slug, { proxyDomain: DOMAIN });
  await addDomain(ctx, { name: UNVERIFIED, service: "proxy" });
  const r = await addDomain(ctx, { name: REGISTRY_DOMAIN, service: "registry" });
  dns.set(`_gantry-challenge.${REGISTRY_DOMAIN}`, "TXT", [r.verification.value]);
  expect((await verifyDomain(ctx, r.id)).status).toBe("verified");
  vendorEmail = user.email;

  const gantry = await startGantryServer({ GANTRY_TRUST_PROXY: "127.0.0.1", GANTRY_DNS_SERVERS: dns.address }, 90_000, { registry: true });
  gantryPort = gantry.port;
  caddy = await startCaddy({ upstreamPort: gantry.port });
  ref = `${DOMAIN}:${caddy.httpsPort}/proxy/${slug}/127.0.0.1_${upstream.port}/acme/api:1`;
  hostsFile = path.join(work, "hosts");
  fs.writeFileSync(hostsFile, `127.0.0.1 localhost\n127.0.0.1 ${DOMAIN} ${UNVERIFIED} ${REGISTRY_DOMAIN}\n`);
}, 180_000);

afterAll(async () => {
  await caddy?.stop();
  stopGantryServers();
  await stopAllContainerd();
  await stopAllDockerd();
  await stopAll();
  cleanupImages();
  await dns?.close();
  fs.rmSync(work, { recursive: true, force: true });
  delete process.env.GANTRY_DNS_SERVERS;
  resetEnvForTests();
});

describe("on-demand TLS through Caddy", () => {
  it("issues a certificate for a verified domain on first contact and refuses an unverified one during the handshake", async () => {
    const first = await handshake(DOMAIN);
    expect(first.subjectaltname).toContain(`DNS:${DOMAIN}`);
    const root = caddy.rootPem();
    expect(root).toContain("BEGIN CERTIFICATE");
    fs.mkdirSync(path.join(work, "certs"), { recursive: true });
    rootFile = path.join(work, "certs", "caddy-root.crt");
    fs.writeFileSync(rootFile, root);
    // Verified against Caddy's root alone.
    expect((await handshake(DOMAIN, root)).subjectaltname).toContain(`DNS:${DOMAIN}`);
    for (const name of [UNVERIFIED, `nobody-${stamp}.example.test`]) {
      await expect(handshake(name, root), name).rejects.toThrow(/alert|handshake|socket|disconnected|ECONNRESET/i);
    }
  });

  it("answers the registry API on the domain with an https realm and the domain as service (curl, --resolve)", async () => {
    await trustedCerts();
    const { stdout } = await run("curl", ["-sS", "-D", "-", "-o", "/dev/null", "--resolve", `${DOMAIN}:${caddy.httpsPort}:127.0.0.1`, "--cacert", rootFile, `https://${DOMAIN}:${caddy.httpsPort}/v2/`]);
    expect(stdout).toMatch(/^HTTP\/\S+ 401/);
    expect(stdout.toLowerCase()).toContain(`www-authenticate: bearer realm="https://${DOMAIN}:${caddy.httpsPort}/v2/token",service="${DOMAIN}"`);
  });
});

describe("customers pull through the custom domain over https", () => {
  it("with skopeo (Caddy's root as the only CA)", async () => {
    await skopeoCopy(licenseId);
  });

  it("with containerd (hosts.toml names the CA for the domain)", async () => {
    await trustedCerts();
    const cd = await startContainerd();
    const hostsDir = path.join(work, "containerd-certs.d");
    const hostDir = path.join(hostsDir, `${DOMAIN}:${caddy.httpsPort}`);
    fs.mkdirSync(hostDir, { recursive: true });
    fs.writeFileSync(path.join(hostDir, "hosts.toml"), `server = "https://${DOMAIN}:${caddy.httpsPort}"\n\n[host."https://${DOMAIN}:${caddy.httpsPort}"]\n  capabilities = ["pull", "resolve"]\n  ca = "${rootFile}"\n`);
    const { stdout, stderr } = await withHosts("ctr", ["--address", cd.address, "--namespace", cd.namespace, "images", "pull", "--hosts-dir", hostsDir, "--user", `LICENSE_ID:${licenseId}`, "--snapshotter", "native", ref]);
    expect(`${stdout}${stderr}`).toMatch(/done|unpacking|elapsed/i);
    expect(await cd.images()).toContain(ref);
    expect(cd.unpackedFiles("data/tls.txt")).toContain("pulled over https on the vendor's own name\n");
  });

  it("with Docker (certs.d CA, and an /etc/hosts entry the test adds and removes)", async () => {
    // Before the engine starts: Go's resolver in dockerd re-reads /etc/hosts only every few seconds.
    const removeHost = addHostsEntry(DOMAIN);
    try {
      const d = await startDockerd();
      d.trustRegistryCa(`${DOMAIN}:${caddy.httpsPort}`, caddy.rootPem());
      const login = await d.docker(["login", `${DOMAIN}:${caddy.httpsPort}`, "-u", "LICENSE_ID", "--password-stdin"], { input: licenseId });
      expect(login.code, `${login.stderr}\n${d.log().slice(-2000)}`).toBe(0);
      const pull = await d.docker(["pull", ref], { timeoutMs: 120_000 });
      expect(pull.code, pull.stderr).toBe(0);
      expect(pull.stdout).toContain("Downloaded newer image");
    } finally {
      removeHost();
    }
    expect(fs.readFileSync("/etc/hosts", "utf8")).not.toContain(`gantry-test ${process.pid} ${DOMAIN}`);
  });
});

describe("Gantry's registry on its custom domain over https", () => {
  it("a vendor pushes with skopeo and a customer pulls it back with the license, byte for byte", async () => {
    const image = await buildImage({ files: { "vendor.txt": "pushed to the vendor's own registry name\n" } });
    const target = `docker://${REGISTRY_DOMAIN}:${caddy.httpsPort}/${slug}/tool:1`;
    const certs = await trustedCerts();
    await withHosts("skopeo", ["--command-timeout", "90s", "copy", "--dest-cert-dir", certs, "--dest-creds", `${vendorEmail}:correct horse battery`, `oci:${image.layoutDir}:${image.tag}`, target]);
    const out = path.join(work, "oci-registry");
    await withHosts("skopeo", ["--command-timeout", "90s", "copy", "--src-cert-dir", certs, "--src-creds", `LICENSE_ID:${licenseId}`, target, `oci:${out}:1`]);
    const digests = (dir: string) => fs.readdirSync(path.join(dir, "blobs", "sha256")).sort();
    expect(digests(out).filter((d) => digests(image.layoutDir).includes(d)).length).toBeGreaterThanOrEqual(2); // config and layer, unchanged
    // Another team's license is not known on this name.
    const refused = await withHosts("skopeo", ["--command-timeout", "60s", "inspect", "--cert-dir", certs, "--creds", `LICENSE_ID:${otherLicense}`, target]).then(
      () => "",
      (e: { stderr?: string }) => String(e.stderr),
    );
    expect(refused).toMatch(/name unknown/i);
  });
});

describe("who may use the domain, and for how long", () => {
  it("refuses another team's license on the domain (NAME_UNKNOWN)", async () => {
    const foreign = `${DOMAIN}:${caddy.httpsPort}/proxy/tls-b-${stamp}/127.0.0.1_${upstream.port}/acme/api:1`;
    const out = path.join(work, "oci-foreign");
    const failure = await withHosts("skopeo", ["--command-timeout", "60s", "copy", "--src-cert-dir", await trustedCerts(), "--src-creds", `LICENSE_ID:${otherLicense}`, `docker://${foreign}`, `oci:${out}:1`]).then(
      () => "",
      (e: { stderr?: string }) => String(e.stderr),
    );
    // skopeo shows only the status of the token request; its body (NAME_UNKNOWN) is checked in serving.int.test.ts.
    expect(failure).toMatch(/Requesting bearer token: invalid status code from registry 404/);
  });

  it("stops serving the domain after its TXT record is missed twice", async () => {
    dns.remove(`_gantry-challenge.${DOMAIN}`);
    expect((await verifyDomain(ctx, domainId)).status).toBe("verified");
    await skopeoCopy(licenseId); // one miss: still served
    expect((await verifyDomain(ctx, domainId)).status).toBe("failed");
    await new Promise((r) => setTimeout(r, 2100)); // the server's view of the domains is at most 2 s old
    await expect(skopeoCopy(licenseId)).rejects.toThrow(/pinging container registry .*404/);
    // And no new certificate would be issued for it: the ask hook says no.
    expect((await fetch(`http://127.0.0.1:${gantryPort}/tls/ask?domain=${DOMAIN}`)).status).toBe(404);
  });
});
