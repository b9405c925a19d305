import crypto from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { startTestHostedRegistry, type TestHostedRegistry } from "@/lib/testing/hosted-registry";
import { createTenant, rawRequest, sha256, skopeoPush, skopeoPushFails, sleep, startUpload, tokenAuth, type Tenant } from "@/lib/testing/hosted-registry-clients";
import { buildImage, cleanupImages } from "@/lib/testing/registries/images";
import { collectGarbage } from "./gc";
import { registryUsage } from "./quota";
import { reconcileRegistryUsage, storageRootOf } from "./usage-reconcile";

/**
 * The registry quota (GANTRY_REGISTRY_TEAM_QUOTA_BYTES): what a team's pushes
 * store is counted once per blob and team (layers, configs, manifests), a
 * push past the quota is refused with 403 DENIED naming the quota and the
 * usage (at the start, on a declared length, while streaming), and usage is
 * recomputed from the storage after garbage collection.
 */
let reg: TestHostedRegistry;
const saved: Record<string, string | undefined> = {};
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

function setQuota(bytes: number): void {
  if (!("GANTRY_REGISTRY_TEAM_QUOTA_BYTES" in saved)) saved.GANTRY_REGISTRY_TEAM_QUOTA_BYTES = process.env.GANTRY_REGISTRY_TEAM_QUOTA_BYTES;
  process.env.GANTRY_REGISTRY_TEAM_QUOTA_BYTES = String(bytes);
  resetEnvForTests();
}

afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    delete saved[k];
  }
  resetEnvForTests();
});

beforeAll(async () => {
  reg = await startTestHostedRegistry();
}, 120_000);

afterAll(async () => {
  await reg?.stop();
  cleanupImages();
});

/** What a pushed image stores: its manifest's bytes, its config and its layers, as the registry serves them. */
async function storedBy(t: Tenant, ref: string): Promise<{ digests: string[]; bytes: number }> {
  const [name, tag] = ref.split(":");
  const res = await fetch(`http://${reg.host}/v2/${name}/manifests/${tag}`, { headers: { ...tokenAuth(t.adminToken), accept: OCI_MANIFEST } });
  const raw = Buffer.from(await res.arrayBuffer());
  const m = JSON.parse(raw.toString("utf8")) as { config: { digest: string; size: number }; layers: { digest: string; size: number }[] };
  return { digests: [sha256(raw), m.config.digest, ...m.layers.map((l) => l.digest)], bytes: raw.length + m.config.size + m.layers.reduce((n, l) => n + l.size, 0) };
}

const errorOf = (body: string) => (JSON.parse(body) as { errors: { code: string; message: string }[] }).errors[0]!;

describe("usage", () => {
  it("counts every blob of a skopeo push once per team (manifest, config, layers), whatever repository or team pushed it too", async () => {
    const t = await createTenant("quse");
    const image = await buildImage({ files: { "use.txt": `usage ${Date.now()}\n` }, randomBytes: 256 * 1024 });
    await skopeoPush(image, reg.host, `${t.slug}/api:1`, t.adminToken);
    const stored = await storedBy(t, `${t.slug}/api:1`);
    expect(await registryUsage(t.teamId)).toMatchObject({ storedBytes: stored.bytes, uploadingBytes: 0 });
    const rows = await db.registryBlob.findMany({ where: { teamId: t.teamId } });
    expect(rows.map((r) => r.digest).sort()).toEqual([...stored.digests].sort());

    // The same image in another repository (skopeo mounts or re-uploads) and under another tag adds nothing.
    await skopeoPush(image, reg.host, `${t.slug}/api-copy:1`, t.adminToken);
    await skopeoPush(image, reg.host, `${t.slug}/api:latest`, t.adminToken);
    expect((await registryUsage(t.teamId)).storedBytes).toBe(stored.bytes);

    // Another team pushing the same content pays for it; the first team's count does not move.
    const other = await createTenant("quse-b");
    await skopeoPush(image, reg.host, `${other.slug}/api:1`, other.adminToken);
    expect((await registryUsage(other.teamId)).storedBytes).toBe(stored.bytes);
    expect((await registryUsage(t.teamId)).storedBytes).toBe(stored.bytes);
  });
});

describe("a push past the quota", () => {
  it("fails in skopeo with 403 DENIED naming the quota and the usage; re-tagging what the team holds still works", async () => {
    const t = await createTenant("qsko");
    const small = await buildImage({ files: { "small.txt": `small ${Date.now()}\n` } });
    await skopeoPush(small, reg.host, `${t.slug}/app:1`, t.adminToken);
    const used = (await registryUsage(t.teamId)).storedBytes;
    setQuota(used + 64 * 1024);
    const big = await buildImage({ files: { "big.txt": "big\n" }, randomBytes: 512 * 1024 });
    const stderr = await skopeoPushFails(big, reg.host, `${t.slug}/app:2`, t.adminToken);
    expect(stderr).toMatch(/would exceed your team's registry quota/);
    expect(stderr).toMatch(/GANTRY_REGISTRY_TEAM_QUOTA_BYTES/);
    expect((await registryUsage(t.teamId)).storedBytes).toBeLessThanOrEqual(used + 64 * 1024);

    // A new tag on a manifest the team holds adds no bytes: allowed at the quota.
    setQuota(used);
    const res = await fetch(`http://${reg.host}/v2/${t.slug}/app/manifests/1`, { headers: { ...tokenAuth(t.adminToken), accept: OCI_MANIFEST } });
    const raw = Buffer.from(await res.arrayBuffer());
    const retag = await fetch(`http://${reg.host}/v2/${t.slug}/app/manifests/stable`, { method: "PUT", headers: { ...tokenAuth(t.adminToken), "content-type": OCI_MANIFEST }, body: new Uint8Array(raw) });
    expect(retag.status).toBe(201);
    // A new manifest is refused at the quota.
    const changed = Buffer.from(JSON.stringify({ ...JSON.parse(raw.toString("utf8")), annotations: { "org.example.note": "new" } }));
    const refused = await fetch(`http://${reg.host}/v2/${t.slug}/app/manifests/noted`, { method: "PUT", headers: { ...tokenAuth(t.adminToken), "content-type": OCI_MANIFEST }, body: new Uint8Array(changed) });
    expect(refused.status).toBe(403);
    expect(errorOf(await refused.text()).code).toBe("DENIED");
  });

  it("is refused at the upload start, on a declared length before reading, and while streaming; uploads in progress count", async () => {
    const t = await createTenant("qraw");
    const auth = tokenAuth(t.adminToken);
    const name = `${t.slug}/raw`;
    setQuota(1024 * 1024);

    // A monolithic upload declaring more than the quota.
    const body = crypto.randomBytes(1100 * 1024);
    const mono = await rawRequest(`http://${reg.host}/v2/${name}/blobs/uploads/?digest=${sha256(body)}`, "POST", { ...auth, "content-type": "application/octet-stream", "content-length": String(body.length) }, async () => {});
    expect(mono.status).toBe(403);
    const monoError = errorOf(mono.body);
    expect(monoError.code).toBe("DENIED");
    expect(monoError.message).toBe(
      "This push would exceed your team's registry quota of 1 MiB: 0 B stored (0 of 1048576 bytes used; this request adds 1126400 more). Delete images you no longer ship and have the operator run registry garbage collection, or ask the operator to raise GANTRY_REGISTRY_TEAM_QUOTA_BYTES.",
    );

    // 700 KiB in an open session counts: a PATCH declaring 400 KiB more is refused before it is read.
    const first = await startUpload(reg.host, name, auth);
    const part = crypto.randomBytes(700 * 1024);
    expect((await fetch(first.url!, { method: "PATCH", headers: { ...auth, "content-type": "application/octet-stream" }, body: new Uint8Array(part) })).status).toBe(202);
    expect((await registryUsage(t.teamId)).uploadingBytes).toBe(part.length);
    const second = await startUpload(reg.host, name, auth);
    const declared = await rawRequest(second.url!, "PATCH", { ...auth, "content-type": "application/octet-stream", "content-length": String(400 * 1024) }, async () => {});
    expect(declared.status).toBe(403);
    expect(errorOf(declared.body).message).toMatch(/^This push would exceed your team's registry quota of 1 MiB: 0 B stored plus 700 KiB in open uploads \(716800 of 1048576 bytes used; this request adds 409600 more\)/);

    // Streamed without a length: cut once it passes the room left, and the session dropped.
    const third = await startUpload(reg.host, name, auth);
    const streamed = await rawRequest(third.url!, "PATCH", { ...auth, "content-type": "application/octet-stream", "transfer-encoding": "chunked" }, async (write, done) => {
      for (let i = 0; i < 64 && !done(); i++) {
        write(crypto.randomBytes(32 * 1024));
        await sleep(5);
      }
    });
    expect(streamed.status).toBe(403);
    expect(errorOf(streamed.body).code).toBe("DENIED");
    expect(streamed.written).toBeLessThan(2 * 1024 * 1024);
    expect((await fetch(third.url!, { headers: auth })).status).toBe(404);

    // Closing the first upload turns its bytes into a stored blob; then the team is at 700 KiB of 1 MiB.
    const close = new URL(first.url!);
    close.searchParams.set("digest", sha256(part));
    expect((await fetch(close, { method: "PUT", headers: auth })).status).toBe(201);
    expect(await registryUsage(t.teamId)).toMatchObject({ storedBytes: part.length, uploadingBytes: 0 });

    // At the quota, an upload cannot even start.
    setQuota(part.length);
    const atQuota = await startUpload(reg.host, name, auth);
    expect([atQuota.status, atQuota.body.errors?.[0]?.code]).toEqual([403, "DENIED"]);
    expect(atQuota.body.errors?.[0]?.message).toMatch(/^This push would exceed your team's registry quota of 700 KiB: 700 KiB stored \(716800 of 716800 bytes used\)\. Delete/);
    // …but a mount of a blob the team holds adds nothing and works.
    const mount = await fetch(`http://${reg.host}/v2/${t.slug}/raw-copy/blobs/uploads/?mount=${sha256(part)}&from=${name}`, { method: "POST", headers: auth });
    expect(mount.status).toBe(201);
  });
});

describe("reconcileRegistryUsage", () => {
  it("after garbage collection, counts only what the storage still holds", async () => {
    const t = await createTenant("qrec");
    const keep = await buildImage({ files: { "keep.txt": `keep ${Date.now()}\n` } });
    const drop = await buildImage({ files: { "drop.txt": `drop ${Date.now()}\n` }, randomBytes: 128 * 1024 });
    await skopeoPush(keep, reg.host, `${t.slug}/keep:1`, t.adminToken);
    await skopeoPush(drop, reg.host, `${t.slug}/drop:1`, t.adminToken);
    const kept = await storedBy(t, `${t.slug}/keep:1`);
    const dropped = await storedBy(t, `${t.slug}/drop:1`);
    expect((await registryUsage(t.teamId)).storedBytes).toBe(kept.bytes + dropped.bytes);

    const digest = dropped.digests[0]!;
    expect((await fetch(`http://${reg.host}/v2/${t.slug}/drop/manifests/${digest}`, { method: "DELETE", headers: tokenAuth(t.adminToken) })).status).toBe(202);
    // The collection itself recomputes usage from what the storage still holds.
    const gc = await collectGarbage({ configFile: reg.registry.distributionConfigFile!, settleMs: 0 });
    expect(gc.usage?.removed).toBeGreaterThanOrEqual(dropped.digests.length);
    expect((await registryUsage(t.teamId)).storedBytes).toBe(kept.bytes);
    // A row for a blob the storage never had (counted by mistake) goes at the next reconcile.
    await db.registryBlob.create({ data: { teamId: t.teamId, digest: `sha256:${"0".repeat(64)}`, size: 10n, createdAt: new Date(Date.now() - 60_000) } });

    const report = await reconcileRegistryUsage({ storageRoot: storageRootOf(reg.registry.distributionConfigFile!), teamId: t.teamId });
    expect(report).toMatchObject({ teams: 1, blobs: kept.digests.length, bytes: kept.bytes, removed: 1, added: 0 });
    expect((await registryUsage(t.teamId)).storedBytes).toBe(kept.bytes);
    // Idempotent.
    expect(await reconcileRegistryUsage({ storageRoot: storageRootOf(reg.registry.distributionConfigFile!), teamId: t.teamId })).toMatchObject({ removed: 0, added: 0, bytes: kept.bytes });
  }, 120_000);
});
