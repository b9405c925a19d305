import fs from "node:fs";
import crypto from "node:crypto";
import { execFile } from "node:child_process";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { forgetDiskSamples } from "@/lib/disk/free-space";
import { resetEnvForTests } from "@/lib/env";
import { purgeExpired } from "@/lib/retention/retention";
import { startTestHostedRegistry, type TestHostedRegistry } from "@/lib/testing/hosted-registry";
import { bearer, createTenant, rawRequest, sha256, skopeoPush, skopeoPushFails, sleep, startUpload, tokenAuth, type Tenant } from "@/lib/testing/hosted-registry-clients";
import { buildImage, cleanupImages } from "@/lib/testing/registries/images";
import { openUploadSession } from "./upload-sessions";

/**
 * Upload sessions of Gantry's own registry, bounded: sessions per principal
 * and per team, bytes per blob, a throughput floor, abandoned sessions
 * cancelled in distribution; upload status hidden from pull-only callers; and
 * pushes refused below the free-space floor. Real distribution, raw HTTP for
 * the bodies a client library would not send, skopeo for a real push.
 */
const run = promisify(execFile);
let reg: TestHostedRegistry;
let t: Tenant;
const saved: Record<string, string | undefined> = {};

function setEnv(vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!(k in saved)) saved[k] = process.env[k];
    process.env[k] = v;
  }
  resetEnvForTests();
}

afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    delete saved[k];
  }
  resetEnvForTests();
  forgetDiskSamples();
});

beforeAll(async () => {
  reg = await startTestHostedRegistry();
  t = await createTenant("upl");
}, 120_000);

afterAll(async () => {
  await reg?.stop();
  cleanupImages();
});

const errorOf = (body: string) => (JSON.parse(body) as { errors: { code: string; message: string }[] }).errors[0]!;
const uploadsDir = (appId: string, repository: string) => path.join(reg.dir, "storage", "docker", "registry", "v2", "repositories", appId, repository, "_uploads");
const appIdOf = async (slug: string) => (await db.app.findUniqueOrThrow({ where: { slug } })).id;

describe("open upload sessions", () => {
  it("sixty starts at once on the database admit exactly the principal's limit (the counts and the insert are one transaction)", async () => {
    setEnv({ GANTRY_REGISTRY_MAX_UPLOADS_PER_PRINCIPAL: "3", GANTRY_REGISTRY_MAX_UPLOADS_PER_TEAM: "100" });
    const team = await createTenant("urace");
    const app = await db.app.findUniqueOrThrow({ where: { slug: team.slug }, select: { id: true } });
    const principal = `token:race-${crypto.randomUUID()}`;
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, async (_, i) => {
        // Staggered over a few milliseconds, as requests arrive: one start's count runs between others' inserts.
        await sleep(i % 3);
        const id = crypto.randomUUID();
        return openUploadSession({ id, appId: app.id, teamId: team.teamId, principal, repository: "race", location: `/v2/x/blobs/uploads/${id}` });
      }),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
    expect(await db.registryUpload.count({ where: { principal } })).toBe(3);
  });

  it("admits a principal's and a team's sessions up to their limits, even in a burst, and refuses the next with 429 TOOMANYREQUESTS", async () => {
    setEnv({ GANTRY_REGISTRY_MAX_UPLOADS_PER_PRINCIPAL: "3", GANTRY_REGISTRY_MAX_UPLOADS_PER_TEAM: "5" });
    const team = await createTenant("ulim");
    const name = `${team.slug}/burst`;
    // Twelve at once: the counts and the insert are one serializable transaction (a rank taken after inserting admitted four of six once).
    const burst = await Promise.all(Array.from({ length: 12 }, () => startUpload(reg.host, name, tokenAuth(team.adminToken))));
    expect(burst.map((r) => r.status).sort()).toEqual([202, 202, 202, ...Array<number>(9).fill(429)]);
    const refused = burst.find((r) => r.status === 429)!;
    expect(refused.body.errors?.[0]?.code).toBe("TOOMANYREQUESTS");
    expect(refused.body.errors?.[0]?.message).toMatch(/You have 3 blob uploads open.*GANTRY_REGISTRY_MAX_UPLOADS_PER_PRINCIPAL.*finish or cancel/);
    expect(refused.headers.get("retry-after")).toBe("60");

    // Another principal of the team has its own three, up to the team's five.
    const other = [await startUpload(reg.host, name, tokenAuth(team.otherAdminToken)), await startUpload(reg.host, name, tokenAuth(team.otherAdminToken))];
    expect(other.map((r) => r.status)).toEqual([202, 202]);
    const teamFull = await startUpload(reg.host, name, tokenAuth(team.otherAdminToken));
    expect([teamFull.status, teamFull.body.errors?.[0]?.code]).toEqual([429, "TOOMANYREQUESTS"]);
    expect(teamFull.body.errors?.[0]?.message).toMatch(/Your team has 5 blob uploads open.*GANTRY_REGISTRY_MAX_UPLOADS_PER_TEAM/);
    expect(await db.registryUpload.count({ where: { teamId: team.teamId } })).toBe(5);

    // Cancelling one frees its place; another team is not affected by this one's count.
    const admitted = burst.find((r) => r.status === 202)!;
    expect((await fetch(admitted.url!, { method: "DELETE", headers: tokenAuth(team.adminToken) })).status).toBe(204);
    expect((await startUpload(reg.host, name, tokenAuth(team.otherAdminToken))).status).toBe(202);
    expect((await startUpload(reg.host, `${t.slug}/other-team`, tokenAuth(t.adminToken))).status).toBe(202);
  });

  it("cancels sessions without data for an hour in distribution and purges their rows, once across racing purges, and keeps live ones", async () => {
    const team = await createTenant("uabn");
    const name = `${team.slug}/abandoned`;
    const appId = await appIdOf(team.slug);
    const stale = await startUpload(reg.host, name, tokenAuth(team.adminToken));
    const live = await startUpload(reg.host, name, tokenAuth(team.adminToken));
    // Data in the stale one, so distribution holds a file for it.
    const chunk = crypto.randomBytes(4096);
    const patched = await fetch(stale.url!, { method: "PATCH", headers: { ...tokenAuth(team.adminToken), "content-type": "application/octet-stream", "content-range": `0-${chunk.length - 1}` }, body: new Uint8Array(chunk) });
    expect(patched.status).toBe(202);
    const staleId = stale.url!.split("/").pop()!;
    const liveId = live.url!.split("/").pop()!;
    const dataFile = async (id: string) => {
      const { location } = await db.registryUpload.findUniqueOrThrow({ where: { id } });
      return path.join(uploadsDir(appId, "abandoned"), /\/blobs\/uploads\/([^/?]+)/.exec(location)![1]!, "data");
    };
    const [staleData, liveData] = [await dataFile(staleId), await dataFile(liveId)];
    expect([fs.statSync(staleData).size, fs.existsSync(liveData)]).toEqual([chunk.length, true]);
    await db.registryUpload.updateMany({ where: { id: staleId }, data: { updatedAt: new Date(Date.now() - 61 * 60_000) } });

    const [a, b] = await Promise.all([purgeExpired({ pauseMs: 0 }), purgeExpired({ pauseMs: 0 })]);
    expect(a.registryUploads + b.registryUploads).toBe(1);
    expect(await db.registryUpload.findUnique({ where: { id: staleId } })).toBeNull();
    expect(await db.registryUpload.findUnique({ where: { id: liveId } })).not.toBeNull();
    // distribution's side of the stale session is gone (distribution 2.8 leaves an empty hash-state
    // stub behind a cancelled upload; its data is what takes space); the live one's stays.
    expect([fs.existsSync(staleData), fs.existsSync(liveData)]).toEqual([false, true]);
    const status = await fetch(stale.url!, { headers: tokenAuth(team.adminToken) });
    expect([status.status, errorOf(await status.text()).code]).toEqual([404, "BLOB_UPLOAD_UNKNOWN"]);
    expect((await fetch(live.url!, { headers: tokenAuth(team.adminToken) })).status).toBe(204);
  });
});

describe("gantry purge", () => {
  it("run in its own process (no registry in it), cancels an abandoned upload in distribution found from the configuration", async () => {
    const team = await createTenant("ucli");
    const appId = await appIdOf(team.slug);
    const s = await startUpload(reg.host, `${team.slug}/cli`, tokenAuth(team.adminToken));
    const chunk = crypto.randomBytes(2048);
    expect((await fetch(s.url!, { method: "PATCH", headers: { ...tokenAuth(team.adminToken), "content-type": "application/octet-stream" }, body: new Uint8Array(chunk) })).status).toBe(202);
    const id = s.url!.split("/").pop()!;
    const { location } = await db.registryUpload.findUniqueOrThrow({ where: { id } });
    const data = path.join(uploadsDir(appId, "cli"), /\/blobs\/uploads\/([^/?]+)/.exec(location)![1]!, "data");
    expect(fs.existsSync(data)).toBe(true);
    await db.registryUpload.updateMany({ where: { id }, data: { updatedAt: new Date(Date.now() - 2 * 3600_000) } });

    // The CLI's data directory holds the registry's config and signing key (here: the test registry's own).
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-cli-"));
    fs.symlinkSync(reg.dir, path.join(dataDir, "registry"));
    try {
      const { stdout } = await run("node_modules/.bin/tsx", ["--require", "./lib/ops/server-only-shim.cjs", "lib/cli/main.ts", "purge"], { env: { ...process.env, GANTRY_DATA_DIR: dataDir }, timeout: 60_000 });
      expect(JSON.parse(stdout.trim().split("\n").pop()!)).toMatchObject({ registryUploads: 1 });
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    expect(await db.registryUpload.findUnique({ where: { id } })).toBeNull();
    expect(fs.existsSync(data)).toBe(false);
  });
});

describe("an upload's body", () => {
  it("is refused with 413 SIZE_INVALID when its declared length would take the blob over GANTRY_REGISTRY_MAX_BLOB_BYTES, before it is read", async () => {
    setEnv({ GANTRY_REGISTRY_MAX_BLOB_BYTES: String(1024 * 1024) });
    const s = await startUpload(reg.host, `${t.slug}/cap`, tokenAuth(t.adminToken));
    const first = crypto.randomBytes(600 * 1024);
    const ok = await fetch(s.url!, { method: "PATCH", headers: { ...tokenAuth(t.adminToken), "content-type": "application/octet-stream", "content-range": `0-${first.length - 1}` }, body: new Uint8Array(first) });
    expect(ok.status).toBe(202);
    // offset + bytes: 600 KiB held, 600 KiB more declared. The client sends nothing and still gets its answer.
    const refused = await rawRequest(s.url!, "PATCH", { ...tokenAuth(t.adminToken), "content-type": "application/octet-stream", "content-length": String(600 * 1024), "content-range": `${first.length}-${first.length + 600 * 1024 - 1}` }, async () => {});
    expect(refused.status).toBe(413);
    expect(errorOf(refused.body)).toMatchObject({ code: "SIZE_INVALID" });
    expect(errorOf(refused.body).message).toBe(
      "This blob would be 1228800 bytes, over the registry's limit of 1 MiB (1048576 bytes, GANTRY_REGISTRY_MAX_BLOB_BYTES) per blob. Push smaller layers, or ask the operator to raise the limit.",
    );
    // The session is over: its blob can never be completed.
    expect((await fetch(s.url!, { headers: tokenAuth(t.adminToken) })).status).toBe(404);
  });

  it("is cut with 413 when a streamed body without a length passes the cap, and none of it past the cap reaches distribution", async () => {
    setEnv({ GANTRY_REGISTRY_MAX_BLOB_BYTES: String(1024 * 1024) });
    const appId = await appIdOf(t.slug);
    const s = await startUpload(reg.host, `${t.slug}/stream-cap`, tokenAuth(t.adminToken));
    const res = await rawRequest(s.url!, "PATCH", { ...tokenAuth(t.adminToken), "content-type": "application/octet-stream", "transfer-encoding": "chunked" }, async (write, done) => {
      // Up to 8 MiB, 64 KiB at a time, until the server answers.
      for (let i = 0; i < 128 && !done(); i++) {
        write(crypto.randomBytes(64 * 1024));
        await sleep(5);
      }
    });
    expect(res.status).toBe(413);
    expect(errorOf(res.body).code).toBe("SIZE_INVALID");
    expect(res.written).toBeLessThan(8 * 1024 * 1024);
    expect(res.headers.connection).toBe("close");
    expect((await fetch(s.url!, { headers: tokenAuth(t.adminToken) })).status).toBe(404);
    // Distribution's side was cancelled too: no upload files left for it.
    // (distribution may still be saving the bytes it got when the first cancel arrives: Gantry cancels again.)
    const dataFiles = () => (fs.existsSync(uploadsDir(appId, "stream-cap")) ? fs.readdirSync(uploadsDir(appId, "stream-cap"), { recursive: true }).filter((f) => String(f).endsWith("/data")) : []);
    for (let i = 0; i < 50 && dataFiles().length; i++) await sleep(100);
    expect(dataFiles()).toEqual([]);
  });

  it("is cut with 408 when it moves less than the stream floor", async () => {
    setEnv({ GANTRY_STREAM_FLOOR_SECONDS: "1", GANTRY_STREAM_FLOOR_BYTES: String(64 * 1024) });
    const s = await startUpload(reg.host, `${t.slug}/slow`, tokenAuth(t.adminToken));
    const started = Date.now();
    const res = await rawRequest(s.url!, "PATCH", { ...tokenAuth(t.adminToken), "content-type": "application/octet-stream", "transfer-encoding": "chunked" }, async (write, done) => {
      // 1 KiB every 100 ms: 10 KiB a second, under the 64 KiB a second asked.
      for (let i = 0; i < 100 && !done(); i++) {
        write(crypto.randomBytes(1024));
        await sleep(100);
      }
    });
    const ms = Date.now() - started;
    expect(res.status).toBe(408);
    expect(errorOf(res.body)).toMatchObject({ code: "BLOB_UPLOAD_INVALID" });
    expect(errorOf(res.body).message).toMatch(/sent less than 64 KiB in 1 s and was cut/);
    expect(ms).toBeLessThan(5_000);
    expect((await fetch(s.url!, { headers: tokenAuth(t.adminToken) })).status).toBe(404);
    // What distribution got of it was cancelled too.
    const dir = uploadsDir(await appIdOf(t.slug), "slow");
    expect(fs.readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith("/data"))).toEqual([]);
  });

  it("when the client goes away mid-PATCH, the session keeps what distribution got, and cancelling it frees the data", async () => {
    const appId = await appIdOf(t.slug);
    const s = await startUpload(reg.host, `${t.slug}/gone`, tokenAuth(t.adminToken));
    const id = s.url!.split("/").pop()!;
    await new Promise<void>((resolve, reject) => {
      const req = http.request(s.url!, { method: "PATCH", headers: { ...tokenAuth(t.adminToken), "content-type": "application/octet-stream", "content-length": String(4 * 1024 * 1024) }, agent: false });
      req.on("error", () => resolve());
      req.on("response", () => reject(new Error("answered before the body was whole")));
      req.write(crypto.randomBytes(256 * 1024), () => setTimeout(() => req.destroy(), 300));
    });
    // The PATCH completed in distribution with what arrived: Gantry's record follows it.
    let row = await db.registryUpload.findUniqueOrThrow({ where: { id } });
    for (let i = 0; i < 50 && row.offset === 0n; i++) {
      await sleep(100);
      row = await db.registryUpload.findUniqueOrThrow({ where: { id } });
    }
    expect(row.offset).toBe(BigInt(256 * 1024));
    const status = await fetch(s.url!, { headers: tokenAuth(t.adminToken) });
    expect([status.status, status.headers.get("range")]).toEqual([204, `0-${256 * 1024 - 1}`]);
    const data = path.join(uploadsDir(appId, "gone"), /\/blobs\/uploads\/([^/?]+)/.exec(row.location)![1]!, "data");
    expect(fs.statSync(data).size).toBe(256 * 1024);
    expect((await fetch(s.url!, { method: "DELETE", headers: tokenAuth(t.adminToken) })).status).toBe(204);
    expect(fs.existsSync(data)).toBe(false);
  });

  it("under the limits, a chunked upload still completes and is counted once", async () => {
    const s = await startUpload(reg.host, `${t.slug}/fine`, tokenAuth(t.adminToken));
    const content = crypto.randomBytes(300 * 1024);
    const res = await rawRequest(s.url!, "PATCH", { ...tokenAuth(t.adminToken), "content-type": "application/octet-stream", "transfer-encoding": "chunked" }, async (write) => {
      for (let off = 0; off < content.length; off += 100 * 1024) write(content.subarray(off, off + 100 * 1024));
    });
    expect(res.status).toBe(202);
    const close = new URL(res.headers.location!, `http://${reg.host}`);
    close.searchParams.set("digest", sha256(content));
    expect((await fetch(close, { method: "PUT", headers: tokenAuth(t.adminToken) })).status).toBe(201);
    expect(await db.registryBlob.findUnique({ where: { teamId_digest: { teamId: t.teamId, digest: sha256(content) } } })).toMatchObject({ size: BigInt(content.length) });
  });
});

describe("upload status", () => {
  it("is 404 BLOB_UPLOAD_UNKNOWN for pull-only callers (member token, license, a pull-only Bearer token), as for an unknown session; 204 for pushers", async () => {
    const s = await startUpload(reg.host, `${t.slug}/status`, tokenAuth(t.adminToken));
    expect(s.status).toBe(202);
    const pullOnly = await bearer(reg.host, t.adminToken, `repository:${t.slug}/status:pull`);
    const callers: [string, Record<string, string>][] = [
      ["member token", tokenAuth(t.memberToken)],
      ["license", { authorization: `Basic ${Buffer.from(`LICENSE_ID:${t.licenseId}`).toString("base64")}` }],
      ["pull-only Bearer token of an admin", { authorization: `Bearer ${pullOnly}` }],
    ];
    const unknown = await fetch(`http://${reg.host}/v2/${t.slug}/status/blobs/uploads/${crypto.randomUUID()}`, { headers: tokenAuth(t.adminToken) });
    const unknownBody = await unknown.text();
    for (const [who, headers] of callers) {
      for (const method of ["GET", "HEAD"]) {
        const res = await fetch(s.url!, { method, headers });
        expect([who, method, res.status, res.headers.get("range"), res.headers.get("location")]).toEqual([who, method, 404, null, null]);
        if (method === "GET") expect([who, await res.text()]).toEqual([who, unknownBody]);
      }
    }
    const own = await fetch(s.url!, { headers: tokenAuth(t.adminToken) });
    expect([own.status, own.headers.get("range")]).toEqual([204, "0-0"]);
  });
});

describe("the free-space floor", () => {
  it("refuses pushes (upload start, PATCH, PUT, manifest PUT; skopeo) with 403 DENIED saying what to do, while pulls go on", async () => {
    const image = await buildImage({ files: { "floor.txt": `floor ${Date.now()}\n` } });
    await skopeoPush(image, reg.host, `${t.slug}/floor:1`, t.adminToken);
    const session = await startUpload(reg.host, `${t.slug}/floor`, tokenAuth(t.adminToken));
    expect(session.status).toBe(202);

    setEnv({ GANTRY_MIN_FREE_DISK: "99%" });
    forgetDiskSamples();
    const expectRefused = async (res: Response) => {
      expect(res.status).toBe(403);
      const error = errorOf(await res.text());
      expect(error.code).toBe("DENIED");
      expect(error.message).toMatch(/^Gantry's storage is almost full \(.+ free, floor .+\): pushes are refused until the operator frees space; pulls still work\.$/);
    };
    const auth = tokenAuth(t.adminToken);
    await expectRefused(await fetch(`http://${reg.host}/v2/${t.slug}/floor/blobs/uploads/`, { method: "POST", headers: auth }));
    await expectRefused(await fetch(session.url!, { method: "PATCH", headers: { ...auth, "content-type": "application/octet-stream" }, body: "x" }));
    await expectRefused(await fetch(`${session.url!}?digest=${sha256(Buffer.from("x"))}`, { method: "PUT", headers: auth }));
    const manifest = await fetch(`http://${reg.host}/v2/${t.slug}/floor/manifests/1`, { headers: { ...auth, accept: "application/vnd.oci.image.manifest.v1+json" } });
    expect(manifest.status).toBe(200);
    const raw = Buffer.from(await manifest.arrayBuffer());
    await expectRefused(await fetch(`http://${reg.host}/v2/${t.slug}/floor/manifests/2`, { method: "PUT", headers: { ...auth, "content-type": "application/vnd.oci.image.manifest.v1+json" }, body: new Uint8Array(raw) }));
    const stderr = await skopeoPushFails(await buildImage({ files: { "floor2.txt": `refused ${Date.now()}\n` } }), reg.host, `${t.slug}/floor:2`, t.adminToken);
    expect(stderr).toContain("pushes are refused until the operator frees space");

    // Pulls go on: a license pulls the manifest and a layer.
    const license = { authorization: `Basic ${Buffer.from(`x:${t.licenseId}`).toString("base64")}` };
    const pulled = await fetch(`http://${reg.host}/v2/${t.slug}/floor/manifests/1`, { headers: { ...license, accept: "application/vnd.oci.image.manifest.v1+json" } });
    expect(pulled.status).toBe(200);
    const layer = ((await pulled.json()) as { layers: { digest: string }[] }).layers[0]!.digest;
    expect((await fetch(`http://${reg.host}/v2/${t.slug}/floor/blobs/${layer}`, { headers: license })).status).toBe(200);
    // Deleting (freeing space) still works.
    expect((await fetch(session.url!, { method: "DELETE", headers: auth })).status).toBe(204);
  });
});
