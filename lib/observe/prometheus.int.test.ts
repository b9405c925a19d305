import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { createCustomer, revokeLicense } from "@/lib/licenses/customers";
import { createRegistry } from "@/lib/registries/registries";
import { setExtraPatterns } from "@/lib/releases/scope";
import { teamContextForUser } from "@/lib/teams/access";
import { getFrom, startGantryServer, stopGantryServers, type GantryServerChild } from "@/lib/testing/gantry-server";
import { promtoolCheckMetrics, startPrometheus, type RunningPrometheus } from "@/lib/testing/prometheus";
import { startRegistry, stopAll, type RunningRegistry } from "@/lib/testing/registries/harness";
import { buildImage, cleanupImages, pushImage } from "@/lib/testing/registries/images";
import { freePort } from "@/lib/testing/registries/ports";
import { skopeoPull } from "@/lib/testing/skopeo";

/**
 * Gantry's metrics as an operator gets them: the real server (lib/server,
 * run by lib/testing/gantry-server.ts as a child; only Next's portal is a
 * stub) serves /metrics on GANTRY_METRICS_PORT, and Debian's Prometheus
 * scrapes it every second while skopeo pulls an image from a real
 * distribution registry through the proxy; the series are read back through
 * Prometheus's HTTP API. A second Gantry serves /metrics on its public port
 * behind GANTRY_METRICS_TOKEN, scraped with the token.
 */
const LAYER_BYTES = 512 * 1024;
const TOKEN = "metrics-integration-token-0123456789abcdef";
let upstream: RunningRegistry;
let gantry: GantryServerChild;
let tokenGantry: GantryServerChild;
let metricsPort = 0;
let prometheus: RunningPrometheus;
let reference = "";
let license = "";
let revokedLicense = "";
let slug = "";
const secrets: string[] = [];

beforeAll(async () => {
  upstream = await startRegistry({ auth: "htpasswd", users: { alice: "alice-pw" } });
  await pushImage(await buildImage({ files: { "m.txt": "metrics\n" }, randomBytes: LAYER_BYTES }), { registry: upstream, repo: "acme/observed", tag: "1", creds: "alice:alice-pw" });
  slug = `metrics-${Date.now().toString(36)}`;
  const { user, team } = await signUp({ email: `metrics-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Metrics" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  const app = await createApp(ctx, { name: "Metrics", slug });
  await setExtraPatterns(ctx, slug, ["**"]);
  const registry = await createRegistry(ctx, { name: "Up", endpoint: upstream.url, username: "alice", password: "alice-pw" });
  license = (await createCustomer(ctx, slug, { name: "Globex Corporation" })).license.licenseId;
  const revoked = (await createCustomer(ctx, slug, { name: "Initech" })).license;
  revokedLicense = revoked.licenseId;
  await revokeLicense(ctx, revoked.id);
  secrets.push(license, revokedLicense, "Globex", "Initech", slug, app.id, team.id, registry.id, user.id);

  metricsPort = await freePort();
  gantry = await startGantryServer({ GANTRY_METRICS_PORT: String(metricsPort), GANTRY_REGISTRY: "off" });
  tokenGantry = await startGantryServer({ GANTRY_METRICS_TOKEN: TOKEN, GANTRY_REGISTRY: "off" });
  prometheus = await startPrometheus([
    { name: "gantry", target: `127.0.0.1:${metricsPort}` },
    { name: "gantry-token", target: `127.0.0.1:${tokenGantry.port}`, bearer: TOKEN },
  ]);
  reference = `127.0.0.1:${gantry.port}/proxy/${slug}/127.0.0.1_${upstream.port}/acme/observed:1`;
});

afterAll(async () => {
  await prometheus?.stop();
  stopGantryServers();
  await stopAll();
  cleanupImages();
});

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe("metrics scraped by Prometheus", () => {
  it("counts a pull through the proxy: requests by face and status, bytes, cache misses then hits, denials, the database, the event loop", async () => {
    // Cold (misses: fetched upstream and cached), then warm (hits from disk).
    await skopeoPull(reference, `x:${license}`);
    // The cache commits a fill just after its last byte went out: the warm pull waits for both (config and layer).
    await prometheus.waitFor('gantry_cache_fills_total{job="gantry",outcome="completed"}', (v) => (v[0] ?? 0) >= 2);
    await skopeoPull(reference, `x:${license}`);
    await expect(skopeoPull(reference, `x:${revokedLicense}`)).rejects.toThrow(/revoked/);

    await prometheus.waitFor('up{job="gantry"}', (v) => v[0] === 1);
    const ok = await prometheus.waitFor('sum(gantry_http_request_duration_seconds_count{job="gantry",face="proxy",status_class="2xx"})', (v) => (v[0] ?? 0) >= 6);
    expect(ok[0]).toBeGreaterThanOrEqual(6); // per pull at least: token, manifest, config, layer
    // Every client starts with an anonymous 401 challenge; the revoked license adds its own.
    await prometheus.waitFor('sum(gantry_http_request_duration_seconds_count{job="gantry",face="proxy",status_class="4xx"})', (v) => (v[0] ?? 0) >= 3);
    // Latency histogram: buckets, with +Inf equal to the count.
    const inf = await prometheus.query('sum(gantry_http_request_duration_seconds_bucket{job="gantry",face="proxy",le="+Inf"})');
    const count = await prometheus.query('sum(gantry_http_request_duration_seconds_count{job="gantry",face="proxy"})');
    expect(inf[0]?.value).toBe(count[0]?.value);

    // Both pulls sent the layer; the connection bytes count headers too.
    const sent = await prometheus.waitFor('gantry_http_sent_bytes_total{job="gantry",face="proxy"}', (v) => (v[0] ?? 0) >= 2 * LAYER_BYTES);
    expect(sent[0]).toBeGreaterThanOrEqual(2 * LAYER_BYTES);
    await prometheus.waitFor('gantry_http_received_bytes_total{job="gantry",face="proxy"}', (v) => (v[0] ?? 0) > 0);

    await prometheus.waitFor('gantry_cache_requests_total{job="gantry",result="miss"}', (v) => (v[0] ?? 0) >= 1);
    await prometheus.waitFor('gantry_cache_requests_total{job="gantry",result="hit"}', (v) => (v[0] ?? 0) >= 1);
    await prometheus.waitFor('gantry_cache_bytes_total{job="gantry",source="upstream"}', (v) => (v[0] ?? 0) >= LAYER_BYTES);
    await prometheus.waitFor('gantry_cache_bytes_total{job="gantry",source="cache"}', (v) => (v[0] ?? 0) >= LAYER_BYTES);
    await prometheus.waitFor('gantry_cache_fills_total{job="gantry",outcome="completed"}', (v) => (v[0] ?? 0) >= 1);
    await prometheus.waitFor('gantry_cache_stored_bytes{job="gantry"}', (v) => (v[0] ?? 0) >= LAYER_BYTES);

    await prometheus.waitFor('gantry_license_denials_total{job="gantry",face="proxy",reason="revoked"}', (v) => (v[0] ?? 0) >= 1);
    await prometheus.waitFor('sum(gantry_db_query_duration_seconds_count{job="gantry"})', (v) => (v[0] ?? 0) > 0);
    await prometheus.waitFor('gantry_pull_log_queue_depth{job="gantry"}', (v) => v.length === 1);
    await prometheus.waitFor('nodejs_eventloop_lag_seconds{job="gantry"}', (v) => v.length === 1);
    await prometheus.waitFor('process_resident_memory_bytes{job="gantry"}', (v) => (v[0] ?? 0) > 0);
  });

  it("puts no tenant's data in a label: no license, customer, app, team or registry", async () => {
    const exposition = (await getFrom(metricsPort, "/metrics")).body;
    expect(exposition).toContain("gantry_license_denials_total");
    for (const s of secrets) expect(exposition).not.toContain(s);
    // Every label value of Gantry's own series comes from a fixed list.
    const series = await prometheus.query('{__name__=~"gantry_.+", job="gantry"}');
    const values = new Set(series.flatMap((s) => Object.entries(s.metric).filter(([k]) => !["__name__", "job", "instance", "le"].includes(k)).map(([k, v]) => `${k}=${v}`)));
    for (const v of values) expect(v).toMatch(/^(face=(portal|api|proxy|registry|health)|status_class=(\dxx|aborted)|result=(hit|miss)|source=(cache|upstream)|outcome=(completed|failed)|reason=\w+|statement=\w+|registry=[\w.]+|kind=\w+|node_version=v[\d.]+)$/);
  });

  it("passes promtool check metrics", async () => {
    const exposition = (await getFrom(metricsPort, "/metrics")).body;
    const check = await promtoolCheckMetrics(exposition);
    expect(check.output).toBe("");
    expect(check.ok).toBe(true);
  });

  it("is absent from the public port when it has its own, and its own port serves nothing else", async () => {
    expect((await getFrom(gantry.port, "/metrics")).status).toBe(404);
    expect((await getFrom(gantry.port, "/metrics")).body).not.toContain("gantry_");
    expect((await getFrom(metricsPort, "/v2/")).status).toBe(404);
    expect((await getFrom(metricsPort, "/healthz")).status).toBe(404);
  });

  it("on the public port, needs the bearer token; Prometheus scrapes it with the token", async () => {
    const without = await getFrom(tokenGantry.port, "/metrics");
    expect(without.status).toBe(401);
    expect(without.headers["www-authenticate"]).toBe('Bearer realm="gantry-metrics"');
    expect(without.body).not.toContain("gantry_");
    expect((await getFrom(tokenGantry.port, "/metrics", { authorization: `Bearer ${TOKEN.slice(0, -1)}x` })).status).toBe(401);
    expect((await getFrom(tokenGantry.port, "/metrics", { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}` })).status).toBe(401);
    const withToken = await getFrom(tokenGantry.port, "/metrics", { authorization: `Bearer ${TOKEN}` });
    expect(withToken.status).toBe(200);
    expect(withToken.body).toContain("gantry_http_request_duration_seconds");
    await prometheus.waitFor('up{job="gantry-token"}', (v) => v[0] === 1);
    // Scrapes are not counted as requests; the probe the test sent is.
    await getFrom(tokenGantry.port, "/healthz");
    const health = await prometheus.waitFor('gantry_http_request_duration_seconds_count{job="gantry-token",face="health"}', (v) => (v[0] ?? 0) >= 1);
    expect(sum(health)).toBeGreaterThanOrEqual(1);
  });
});
