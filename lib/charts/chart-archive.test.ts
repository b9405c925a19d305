import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHART_LIMITS, ChartArchiveError, parseChartYaml, readChartArchive, readChartMetadata, splitEntryPath, writeChartArchive, type ChartArchiveErrorReason } from "./chart-archive";
import { CHART_YAML, chartTgz, rawTar, rawTgz, type RawEntry } from "./test-archives";

async function refusal(tgz: Buffer): Promise<ChartArchiveError> {
  const error = await readChartArchive(tgz).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChartArchiveError);
  return error as ChartArchiveError;
}

async function expectRefused(tgz: Buffer, reason: ChartArchiveErrorReason, message: RegExp): Promise<void> {
  const error = await refusal(tgz);
  expect({ reason: error.reason, message: error.message }).toEqual({ reason, message: expect.stringMatching(message) });
}

/** Each entry of a tar (not gzipped) with its header, as any tar reader sees it. */
function tarHeaders(tarBytes: Buffer): Promise<tar.Headers[]> {
  return new Promise((resolve, reject) => {
    const out: tar.Headers[] = [];
    const extract = tar.extract();
    extract.on("entry", (h, stream, next) => {
      out.push(h);
      stream.resume();
      stream.on("end", () => next());
    });
    extract.on("finish", () => resolve(out));
    extract.on("error", reject);
    extract.end(tarBytes);
  });
}

describe("splitEntryPath", () => {
  it.each([
    ["acme/Chart.yaml", { root: "acme", rest: "Chart.yaml" }],
    ["acme/templates/a.yaml", { root: "acme", rest: "templates/a.yaml" }],
    ["./acme/values.yaml", { root: "acme", rest: "values.yaml" }],
    ["acme/", { root: "acme", rest: "" }],
  ])("accepts %s", (name, parts) => {
    expect(splitEntryPath(name)).toEqual(parts);
  });

  it.each(["/etc/passwd", "../evil", "acme/../../evil", "acme/templates/..", "acme//x", "acme/./x", "acme\\..\\evil", "acme/a\0b"])("refuses %j", (name) => {
    expect(() => splitEntryPath(name)).toThrow(ChartArchiveError);
  });
});

describe("parseChartYaml", () => {
  it("reads the fields as written, appVersion 1.10 included", () => {
    expect(parseChartYaml(CHART_YAML)).toEqual({ name: "acme", version: "1.2.0", appVersion: "1.10", description: "Acme's app" });
    expect(parseChartYaml("name: x\nversion: 0.1.0\n")).toEqual({ name: "x", version: "0.1.0", appVersion: null, description: null });
  });

  it.each(["version: 1.0.0\n", "name: x\n", "- a\n", "name: [x\n", "name: {a: 1}\nversion: 1.0.0\n"])("refuses %j", (text) => {
    expect(() => parseChartYaml(text)).toThrow(ChartArchiveError);
  });
});

describe("readChartArchive", () => {
  it("reads the files in archive order and the metadata; directory entries are dropped", async () => {
    const tgz = await rawTgz([
      { name: "acme/", type: "directory" },
      { name: "acme/Chart.yaml", data: CHART_YAML },
      { name: "acme/templates/", type: "directory" },
      { name: "acme/templates/z.yaml", data: "z" },
      { name: "acme/templates/a.yaml", data: "a" },
    ]);
    const chart = await readChartArchive(tgz);
    expect(chart.root).toBe("acme");
    expect(chart.files.map((f) => [f.path, f.data.toString()])).toEqual([
      ["Chart.yaml", CHART_YAML],
      ["templates/z.yaml", "z"],
      ["templates/a.yaml", "a"],
    ]);
    expect(await readChartMetadata(tgz)).toEqual({ name: "acme", version: "1.2.0", appVersion: "1.10", description: "Acme's app" });
  });

  it("reads a path longer than ustar's 100 bytes (a PAX header)", async () => {
    const long = `templates/${"d".repeat(120)}/${"f".repeat(120)}.yaml`;
    const chart = await readChartArchive(await chartTgz({ [long]: "long" }));
    expect(chart.files.find((f) => f.path === long)?.data.toString()).toBe("long");
  });

  it("accepts exactly the entry cap", async () => {
    const entries: RawEntry[] = [{ name: "acme/Chart.yaml", data: CHART_YAML }];
    for (let i = 1; i < CHART_LIMITS.entries; i++) entries.push({ name: `acme/files/${i}`, data: "" });
    expect((await readChartArchive(await rawTgz(entries))).files).toHaveLength(CHART_LIMITS.entries);
  });
});

describe("readChartArchive refuses hostile archives, and writes nothing to disk", () => {
  let cwd: string;
  let scratch: string;
  beforeAll(() => {
    // Any extraction would land relative to the working directory (or its parent, for `../`): both are checked empty.
    cwd = process.cwd();
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-charts-"));
    fs.mkdirSync(path.join(scratch, "work"));
    process.chdir(path.join(scratch, "work"));
  });
  afterAll(() => {
    process.chdir(cwd);
    expect(fs.readdirSync(scratch)).toEqual(["work"]);
    expect(fs.readdirSync(path.join(scratch, "work"))).toEqual([]);
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it.each<[string, RawEntry, RegExp]>([
    ["path traversal", { name: "acme/../../evil", data: "x" }, /"\.\." in a path/],
    ["traversal in a path too long for ustar (a PAX header holds it)", { name: `acme/${"d".repeat(200)}/../../../evil`, data: "x" }, /"\.\." in a path/],
    ["traversal at the top", { name: "../evil", data: "x" }, /"\.\." in a path/],
    ["an absolute path", { name: "/etc/cron.d/evil", data: "x" }, /absolute path/],
    ["a symlink", { name: "acme/templates/link.yaml", type: "symlink", linkname: "/etc/passwd" }, /symlink entries are not allowed/],
    ["a hard link", { name: "acme/templates/link.yaml", type: "link", linkname: "acme/Chart.yaml" }, /link entries are not allowed/],
    ["a character device", { name: "acme/dev", type: "character-device" }, /character-device entries are not allowed/],
    ["a block device", { name: "acme/dev", type: "block-device" }, /block-device entries are not allowed/],
    ["a fifo", { name: "acme/fifo", type: "fifo" }, /fifo entries are not allowed/],
    ["a contiguous file (no chart tool writes one)", { name: "acme/templates/c.yaml", type: "contiguous-file", data: "c" }, /unsupported entry type contiguous-file/],
    ["a duplicate", { name: "acme/Chart.yaml", data: "name: other\nversion: 9.9.9\n" }, /appears twice/],
  ])("%s", async (_, hostile, message) => {
    const tgz = await rawTgz([{ name: "acme/Chart.yaml", data: CHART_YAML }, hostile]);
    await expectRefused(tgz, "unsafe_entry", message);
  });

  it("one entry over the entry cap", async () => {
    const entries: RawEntry[] = [{ name: "acme/Chart.yaml", data: CHART_YAML }];
    for (let i = 0; i < CHART_LIMITS.entries; i++) entries.push({ name: `acme/files/${i}`, data: "" });
    await expectRefused(await rawTgz(entries), "too_large", /over 10000 entries/);
  });

  it("a gzip bomb that unpacks past the uncompressed cap (and one just under it is read)", async () => {
    const under = await rawTar([
      { name: "acme/Chart.yaml", data: CHART_YAML },
      { name: "acme/big", data: Buffer.alloc(CHART_LIMITS.uncompressedBytes - 10_240) },
    ]);
    expect(under.length).toBeLessThanOrEqual(CHART_LIMITS.uncompressedBytes);
    expect((await readChartArchive(gzipSync(under, { level: 9 }))).files).toHaveLength(2);
    const bomb = gzipSync(Buffer.concat([under, Buffer.alloc(CHART_LIMITS.uncompressedBytes)]), { level: 9 });
    expect(bomb.length).toBeLessThan(200_000);
    await expectRefused(bomb, "too_large", /unpacks to over 52428800 bytes/);
  });

  it("an archive over the compressed cap, without inflating it", async () => {
    await expectRefused(Buffer.concat([gzipSync(Buffer.alloc(0)), crypto.randomBytes(CHART_LIMITS.compressedBytes)]), "too_large", /over the 10485760-byte limit/);
  });

  it.each<[string, () => Promise<Buffer>, ChartArchiveErrorReason, RegExp]>([
    ["not gzip", async () => Buffer.from("PK\x03\x04 a zip"), "corrupt", /not gzip/],
    ["gzip of something not tar", async () => gzipSync(crypto.randomBytes(4096)), "corrupt", /not a valid tar/],
    ["a truncated tar", async () => gzipSync((await rawTar([{ name: "acme/Chart.yaml", data: CHART_YAML.repeat(20) }])).subarray(0, 700)), "corrupt", /not a valid tar/],
    ["an empty tar", async () => gzipSync(Buffer.alloc(1024)), "not_a_chart", /empty/],
    ["no Chart.yaml", async () => rawTgz([{ name: "acme/values.yaml", data: "a: 1\n" }]), "not_a_chart", /no acme\/Chart.yaml/],
    ["two top directories", async () => rawTgz([{ name: "acme/Chart.yaml", data: CHART_YAML }, { name: "other/x", data: "" }]), "not_a_chart", /outside the chart's top directory/],
    ["a file at the top", async () => rawTgz([{ name: "Chart.yaml", data: CHART_YAML }]), "not_a_chart", /inside the chart's top directory/],
  ])("%s", async (_, make, reason, message) => {
    await expectRefused(await make(), reason, message);
  });
});

describe("writeChartArchive", () => {
  const files = [
    { path: "Chart.yaml", data: Buffer.from(CHART_YAML) },
    { path: "templates/b.yaml", data: Buffer.from("b") },
    { path: `templates/${"x".repeat(150)}.yaml`, data: Buffer.from("long") },
  ];

  it("is deterministic: fixed gzip header, fixed tar headers, the given order; and reads back", async () => {
    const a = await writeChartArchive("acme", files);
    await new Promise((r) => setTimeout(r, 1100)); // a clock that leaked in would show
    const b = await writeChartArchive("acme", files);
    expect(b.equals(a)).toBe(true);
    // gzip: no FNAME flag, MTIME 0, XFL 2 (level 9), OS 3.
    expect([...a.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
    const headers = (await tarHeaders(gunzipSync(a))).map((h) => ({
      name: h.name,
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      uname: h.uname,
      gname: h.gname,
      mtime: h.mtime?.getTime(),
    }));
    expect(headers).toEqual(files.map((f) => ({ name: `acme/${f.path}`, mode: 0o644, uid: 0, gid: 0, uname: "", gname: "", mtime: 0 })));
    const back = await readChartArchive(a);
    expect(back.files.map((f) => [f.path, f.data.toString()])).toEqual(files.map((f) => [f.path, f.data.toString()]));
  });

  it("refuses to write an unsafe path", async () => {
    await expect(writeChartArchive("acme", [{ path: "../evil", data: Buffer.from("") }])).rejects.toThrow(ChartArchiveError);
  });
});
