import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cacheTeam, contentFile, link, randomDigest, usage } from "@/lib/testing/cache-fixtures";
import { tmpDir } from "./layout";
import { operatorCacheStats, parseCacheRange, rangeBuckets, teamCacheStats } from "./stats";

const NOW = new Date("2026-11-20T15:42:10Z");
const hour = (iso: string) => new Date(iso);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe("rangeBuckets", () => {
  it("ends with the bucket now is in, in UTC", () => {
    const hours = rangeBuckets("48h", NOW);
    expect(hours).toHaveLength(48);
    expect(hours.at(-1)?.toISOString()).toBe("2026-11-20T15:00:00.000Z");
    expect(hours[0]?.toISOString()).toBe("2026-11-18T16:00:00.000Z");
    const days = rangeBuckets("14d", NOW);
    expect(days).toHaveLength(14);
    expect(days.at(-1)?.toISOString()).toBe("2026-11-20T00:00:00.000Z");
    expect(days[0]?.toISOString()).toBe("2026-11-07T00:00:00.000Z");
    expect(parseCacheRange("48h")).toBe("48h");
    expect(parseCacheRange(["48h"])).toBe("14d");
    expect(parseCacheRange("1y")).toBe("14d");
  });
});

describe("teamCacheStats", () => {
  it("is empty, with zero-filled buckets, before any cache traffic", async () => {
    const t = await cacheTeam(["Quiet"]);
    const stats = await teamCacheStats(t.teamId, { now: NOW });
    expect(stats.used).toBe(false);
    expect(stats.summary).toEqual({
      storedBytes: 0,
      objects: 0,
      hits: 0,
      misses: 0,
      hitRatio: null,
      bytesFromCache: 0,
      bytesFromUpstream: 0,
      staleServes: 0,
      evictions: 0,
      evictedBytes: 0,
      digestMismatches: 0,
    });
    expect(stats.series).toHaveLength(14);
    expect(stats.series.every((p) => p.bytesFromCache === 0 && p.bytesFromUpstream === 0 && p.hits === 0 && p.misses === 0)).toBe(true);
    expect(stats.apps).toEqual([expect.objectContaining({ name: "Quiet", objects: 0, storedBytes: 0, hitRatio: null })]);
    expect(stats.maxBytes).toBe(20 * 2 ** 30);
  });

  it("counts shared content once for the team and once per app, and BigInt sizes above 4 GiB exactly", async () => {
    const t = await cacheTeam(["Alpha", "Beta"]);
    const { Alpha, Beta } = t.apps as Record<"Alpha" | "Beta", { id: string; slug: string }>;
    const shared = randomDigest();
    const big = randomDigest();
    await link(t.teamId, t.registryId, Alpha.id, shared, 1000, "acme/api");
    await link(t.teamId, t.registryId, Alpha.id, shared, 1000, "acme/worker"); // same layer in two repositories
    await link(t.teamId, t.registryId, Beta.id, shared, 1000);
    await link(t.teamId, t.registryId, Beta.id, big, 5n * 2n ** 30n);

    const stats = await teamCacheStats(t.teamId, { now: NOW });
    expect(stats.used).toBe(true);
    expect(stats.summary).toMatchObject({ objects: 2, storedBytes: 1000 + 5 * 2 ** 30 });
    expect(stats.apps.map((a) => [a.name, a.objects, a.storedBytes])).toEqual([
      ["Alpha", 1, 1000],
      ["Beta", 2, 1000 + 5 * 2 ** 30],
    ]);
  });

  it("sums traffic over the range only, into UTC hour or day buckets, per app, and never another team's", async () => {
    const t = await cacheTeam(["Gamma", "Delta"]);
    const other = await cacheTeam(["Other"]);
    const { Gamma, Delta } = t.apps as Record<"Gamma" | "Delta", { id: string; slug: string }>;
    await usage(t.teamId, Gamma.id, hour("2026-11-20T15:00:00Z"), { hits: 3, misses: 1, bytesFromCache: 300, bytesFromUpstream: 100, staleServes: 1 });
    await usage(t.teamId, Delta.id, hour("2026-11-20T15:00:00Z"), { hits: 1, bytesFromCache: 2 ** 33 });
    await usage(t.teamId, Gamma.id, hour("2026-11-20T02:00:00Z"), { misses: 4, bytesFromUpstream: 400, evictions: 2, evictedBytes: 4096 });
    await usage(t.teamId, Gamma.id, hour("2026-11-18T16:00:00Z"), { hits: 2, bytesFromCache: 20 }); // first hour of the 48 h window
    await usage(t.teamId, Gamma.id, hour("2026-11-18T15:00:00Z"), { hits: 5, bytesFromCache: 50 }); // just before it
    await usage(t.teamId, Gamma.id, hour("2026-11-06T23:00:00Z"), { hits: 100, bytesFromCache: 1e6 }); // before the 14 days
    await usage(other.teamId, other.apps.Other!.id, hour("2026-11-20T15:00:00Z"), { hits: 1000, misses: 1000, bytesFromCache: 1e9, bytesFromUpstream: 1e9 });

    const days = await teamCacheStats(t.teamId, { now: NOW, range: "14d" });
    expect(days.since).toBe("2026-11-07T00:00:00.000Z");
    expect(days.summary).toMatchObject({
      hits: 3 + 1 + 2 + 5,
      misses: 1 + 4,
      bytesFromCache: 300 + 2 ** 33 + 20 + 50,
      bytesFromUpstream: 100 + 400,
      staleServes: 1,
      evictions: 2,
      evictedBytes: 4096,
    });
    expect(days.summary.hitRatio).toBeCloseTo(11 / 16);
    expect(days.series).toHaveLength(14);
    const byDay = Object.fromEntries(days.series.map((p) => [p.start.slice(0, 10), p]));
    expect(byDay["2026-11-20"]).toEqual({ start: "2026-11-20T00:00:00.000Z", bytesFromCache: 300 + 2 ** 33, bytesFromUpstream: 500, hits: 4, misses: 5 });
    expect(byDay["2026-11-18"]).toMatchObject({ bytesFromCache: 70, hits: 7 });
    expect(byDay["2026-11-19"]).toMatchObject({ bytesFromCache: 0, bytesFromUpstream: 0, hits: 0, misses: 0 });
    expect(days.apps.find((a) => a.name === "Gamma")).toMatchObject({ hits: 10, misses: 5, bytesFromUpstream: 500, hitRatio: 10 / 15 });
    expect(days.apps.find((a) => a.name === "Delta")).toMatchObject({ hits: 1, misses: 0, hitRatio: 1 });
    expect(days.apps.map((a) => a.name)).not.toContain("Other");

    const hours = await teamCacheStats(t.teamId, { now: NOW, range: "48h" });
    expect(hours.summary).toMatchObject({ hits: 3 + 1 + 2, misses: 5 });
    expect(hours.series).toHaveLength(48);
    expect(hours.series[0]).toMatchObject({ start: "2026-11-18T16:00:00.000Z", hits: 2, bytesFromCache: 20 });
    expect(hours.series.at(-1)).toMatchObject({ start: "2026-11-20T15:00:00.000Z", hits: 4, misses: 1, bytesFromCache: 300 + 2 ** 33 });
    expect(hours.series.filter((p) => p.hits + p.misses > 0)).toHaveLength(3);

    const theirs = await teamCacheStats(other.teamId, { now: NOW });
    expect(theirs.summary).toMatchObject({ hits: 1000, misses: 1000 });
    expect(theirs.apps.map((a) => a.name)).toEqual(["Other"]);
  });
});

describe("operatorCacheStats", () => {
  it("adds every team's content and traffic, and measures the content on disk (not fills in progress)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-cache-stats-"));
    dirs.push(dir);
    const before = await operatorCacheStats({ dir, maxBytes: 1234 });
    expect(before.disk).toEqual({ files: 0, bytes: 0, complete: true }); // no content root yet

    const a = await cacheTeam(["One"]);
    const b = await cacheTeam(["Two"]);
    const shared = randomDigest();
    await link(a.teamId, a.registryId, a.apps.One!.id, shared, 700);
    await link(b.teamId, b.registryId, b.apps.Two!.id, shared, 700);
    await usage(a.teamId, a.apps.One!.id, hour("2026-11-20T10:00:00Z"), { hits: 2, misses: 2, bytesFromUpstream: 700, bytesFromCache: 1400 });
    contentFile(dir, shared, 700);
    contentFile(dir, randomDigest(), 300);
    fs.mkdirSync(tmpDir(dir), { recursive: true });
    fs.writeFileSync(path.join(tmpDir(dir), "fill-123"), Buffer.alloc(5000));

    const after = await operatorCacheStats({ dir, maxBytes: 1234 });
    expect(after.dir).toBe(dir);
    expect(after.maxBytes).toBe(1234);
    expect(after.objects - before.objects).toBe(1);
    expect(after.storedBytes - before.storedBytes).toBe(700);
    expect(after.links - before.links).toBe(2);
    expect(after.teamsWithContent - before.teamsWithContent).toBe(2);
    expect(after.usage.hits - before.usage.hits).toBe(2);
    expect(after.usage.bytesFromCache - before.usage.bytesFromCache).toBe(1400);
    expect(after.disk).toEqual({ files: 2, bytes: 1000, complete: true });
    expect(JSON.parse(JSON.stringify(after))).toEqual(after); // no BigInt left

    expect((await operatorCacheStats({ dir, diskLimit: 1 })).disk).toMatchObject({ files: 1, complete: false });
  });
});
