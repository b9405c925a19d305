import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { cacheTeam, contentFile, link, randomDigest, usage } from "@/lib/testing/cache-fixtures";
import { tmpDir } from "./layout";
import { purgeAll, purgeApp } from "./purge";
import { operatorCacheStats } from "./stats";

const dirs: string[] = [];
function cacheDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-cache-purge-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A fill in progress: purges must never touch it. */
function fillInProgress(dir: string) {
  fs.mkdirSync(tmpDir(dir), { recursive: true });
  const file = path.join(tmpDir(dir), "fill-abc");
  fs.writeFileSync(file, "partial");
  return file;
}

async function tag(registryId: string, digest: string) {
  await db.cacheTag.create({ data: { registryId, repository: "acme/api", tag: "1.0", digest, mediaType: "application/vnd.oci.image.manifest.v1+json", seenAt: new Date() } });
}

describe("purgeApp", () => {
  it("removes the app's links and usage, and only the files no other app still links", async () => {
    const dir = cacheDir();
    const t = await cacheTeam(["Keep", "Drop"]);
    const { Keep, Drop } = t.apps as Record<"Keep" | "Drop", { id: string; slug: string }>;
    const shared = randomDigest();
    const own = randomDigest();
    const ownToo = randomDigest();
    await link(t.teamId, t.registryId, Keep.id, shared, 100);
    await link(t.teamId, t.registryId, Drop.id, shared, 100);
    await link(t.teamId, t.registryId, Drop.id, own, 2000, "acme/api");
    await link(t.teamId, t.registryId, Drop.id, own, 2000, "acme/worker");
    await link(t.teamId, t.registryId, Drop.id, ownToo, 30);
    await usage(t.teamId, Drop.id, new Date("2026-11-20T10:00:00Z"), { hits: 1 });
    await usage(t.teamId, Keep.id, new Date("2026-11-20T10:00:00Z"), { hits: 7 });
    await tag(t.registryId, own);
    const sharedFile = contentFile(dir, shared, 100);
    const ownFile = contentFile(dir, own, 2000);
    // ownToo's file is already gone (evicted): not an error, not counted
    const fill = fillInProgress(dir);

    const report = await purgeApp(Drop.slug, { dir });
    expect(report).toEqual({ scope: { app: Drop.slug }, links: 4, tags: 0, files: 1, bytesFreed: 2000 });
    expect(fs.existsSync(ownFile)).toBe(false);
    expect(fs.existsSync(sharedFile)).toBe(true);
    expect(fs.readFileSync(fill, "utf8")).toBe("partial");
    expect(await db.cacheLink.count({ where: { appId: Drop.id } })).toBe(0);
    expect(await db.cacheLink.count({ where: { appId: Keep.id } })).toBe(1);
    expect(await db.cacheUsage.count({ where: { appId: Keep.id } })).toBe(1);
    expect(await db.cacheUsage.count({ where: { appId: Drop.id } })).toBe(1); // the traffic history stays
    expect(await db.cacheTag.count({ where: { registryId: t.registryId } })).toBe(1); // tags are per registry

    // purging again finds nothing left
    expect(await purgeApp(Drop.slug, { dir })).toMatchObject({ links: 0, files: 0, bytesFreed: 0 });
  });

  it("refuses an unknown slug", async () => {
    await expect(purgeApp("no-such-app-anywhere", { dir: cacheDir() })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("purgeAll", () => {
  it("removes every link and tag and every content file, unreferenced ones too, but no fill in progress nor the traffic history", async () => {
    const dir = cacheDir();
    const a = await cacheTeam(["First"]);
    const b = await cacheTeam(["Second"]);
    const d1 = randomDigest();
    const d2 = randomDigest();
    await link(a.teamId, a.registryId, a.apps.First!.id, d1, 10);
    await link(b.teamId, b.registryId, b.apps.Second!.id, d2, 20);
    await usage(a.teamId, a.apps.First!.id, new Date("2026-11-20T10:00:00Z"), { misses: 1 });
    await tag(a.registryId, d1);
    const files = [contentFile(dir, d1, 10), contentFile(dir, d2, 20), contentFile(dir, randomDigest(), 70)];
    const fill = fillInProgress(dir);
    const links = await db.cacheLink.count();
    const tags = await db.cacheTag.count();
    const usageRows = await db.cacheUsage.count();

    const report = await purgeAll({ dir });
    expect(report).toEqual({ scope: "all", links, tags, files: 3, bytesFreed: 100 });
    expect(files.some((f) => fs.existsSync(f))).toBe(false);
    expect(fs.readFileSync(fill, "utf8")).toBe("partial");
    expect([await db.cacheLink.count(), await db.cacheTag.count(), await db.cacheUsage.count()]).toEqual([0, 0, usageRows]);
    expect(await purgeAll({ dir: cacheDir() })).toMatchObject({ files: 0, bytesFreed: 0 }); // no content root at all
  });
});

describe("gantry cache (CLI)", () => {
  const cli = (dir: string, ...args: string[]) => {
    try {
      const out = execFileSync("npm", ["run", "-s", "gantry", "--", "cache", ...args], {
        encoding: "utf8",
        env: { ...process.env, GANTRY_CACHE_DIR: dir, GANTRY_CACHE_MAX_BYTES: "1GiB" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      return { code: 0, out: out.trim().split("\n"), err: "" };
    } catch (e) {
      const err = e as { status: number; stdout: string; stderr: string };
      return { code: err.status, out: err.stdout.trim().split("\n"), err: err.stderr };
    }
  };

  it("prints the operator's totals and purges one app or everything, as one JSON line each", async () => {
    const dir = cacheDir();
    await purgeAll({ dir });
    const t = await cacheTeam(["Cli"]);
    const d = randomDigest();
    await link(t.teamId, t.registryId, t.apps.Cli!.id, d, 64);
    // Traffic history outlives purges: the totals are what was there plus what this test adds.
    const before = (await operatorCacheStats({ dir })).usage;
    await usage(t.teamId, t.apps.Cli!.id, new Date("2026-11-20T10:00:00Z"), { hits: 3, misses: 1, bytesFromCache: 192, bytesFromUpstream: 64 });
    const file = contentFile(dir, d, 64);

    const stats = cli(dir, "stats");
    expect(stats.code).toBe(0);
    expect(stats.out).toHaveLength(1);
    expect(JSON.parse(stats.out[0] ?? "")).toMatchObject({
      dir,
      maxBytes: 2 ** 30,
      objects: 1,
      storedBytes: 64,
      links: 1,
      teamsWithContent: 1,
      disk: { files: 1, bytes: 64, complete: true },
      usage: { hits: before.hits + 3, misses: before.misses + 1, bytesFromCache: before.bytesFromCache + 192, bytesFromUpstream: before.bytesFromUpstream + 64 },
    });

    const missing = cli(dir, "purge", "--app", "no-such-app-anywhere");
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/No app with the slug "no-such-app-anywhere"/);
    expect(cli(dir, "purge", "--app").code).toBe(2);
    expect(cli(dir, "shrink").code).toBe(2);

    const one = cli(dir, "purge", "--app", t.apps.Cli!.slug);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.out[0] ?? "")).toEqual({ scope: { app: t.apps.Cli!.slug }, links: 1, tags: 0, files: 1, bytesFreed: 64 });
    expect(fs.existsSync(file)).toBe(false);

    contentFile(dir, randomDigest(), 5);
    const all = cli(dir, "purge");
    expect(all.code).toBe(0);
    expect(JSON.parse(all.out[0] ?? "")).toMatchObject({ scope: "all", files: 1, bytesFreed: 5 });
  });
});
