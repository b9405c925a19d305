import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { planLayout } from "./oci-layout";
import type { ImageContent } from "./sources";
import { planArchive } from "./tar-archive";
import { collect, gnuTarRead } from "./test-entries";

/**
 * The layout planner against what a registry may say: well-formed images
 * give a deterministic layout GNU tar reads back, blobs shared between images
 * appear once; a lying or hostile manifest (sizes that disagree, digests
 * that are not sha256, endless or deep indexes) is refused by name before a
 * byte is streamed.
 */
const digestOf = (b: Buffer) => `sha256:${crypto.createHash("sha256").update(b).digest("hex")}`;

function registry() {
  const manifests = new Map<string, Buffer>();
  const blobs = new Map<string, Buffer>();
  const blob = (text: string) => {
    const b = Buffer.from(text);
    blobs.set(digestOf(b), b);
    return { mediaType: "application/octet-stream", digest: digestOf(b), size: b.length };
  };
  const manifest = (value: unknown) => {
    const b = Buffer.from(JSON.stringify(value));
    manifests.set(digestOf(b), b);
    return { digest: digestOf(b), size: b.length };
  };
  const content: ImageContent = {
    async manifest(digest) {
      const bytes = manifests.get(digest);
      if (!bytes) throw new Error(`no manifest ${digest}`);
      return { bytes, mediaType: null };
    },
    async blob(digest, _size, start, end) {
      const bytes = blobs.get(digest)!;
      return (async function* () {
        yield bytes.subarray(start, end + 1);
      })();
    },
  };
  const image = (layers: string[], config = "{}") =>
    manifest({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: blob(config), layers: layers.map(blob) });
  return { manifests, blobs, blob, manifest, image, content };
}

describe("planLayout", () => {
  it("lays out images and an index with every platform, shared blobs once, the same bytes every time", async () => {
    const r = registry();
    const amd = r.image(["base", "amd"], '{"architecture":"amd64"}');
    const arm = r.image(["base", "arm"], '{"architecture":"arm64"}');
    const index = r.manifest({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        { mediaType: "application/vnd.oci.image.manifest.v1+json", ...amd, platform: { os: "linux", architecture: "amd64" } },
        { mediaType: "application/vnd.oci.image.manifest.v1+json", ...arm, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
      ],
    });
    const single = r.image(["base", "single"]);
    const images = [
      { refName: "acme/multi:1", digest: index.digest, content: r.content, label: "multi" },
      { refName: "acme/single:1", digest: single.digest, content: r.content, label: "single" },
    ];
    const layout = await planLayout(images, "b/images");
    expect(layout.images.map((i) => [i.refName, i.platforms])).toEqual([
      ["acme/multi:1", ["linux/amd64", "linux/arm64/v8"]],
      ["acme/single:1", []],
    ]);
    // 4 manifests + base, amd, arm, single + 3 distinct configs ("{}" twice is one blob).
    expect(layout.blobCount).toBe(4 + 4 + 3);
    const bytes = await collect(planArchive(layout.entries).range(0, planArchive(layout.entries).size - 1));
    const read = gnuTarRead(bytes);
    const file = (p: string) => fs.readFileSync(path.join(read.dir, p));
    const index2 = JSON.parse(file("b/images/index.json").toString()) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(index2.manifests.map((m) => [m.digest, m.annotations["org.opencontainers.image.ref.name"]])).toEqual([
      [index.digest, "acme/multi:1"],
      [single.digest, "acme/single:1"],
    ]);
    for (const [digest, content] of [...r.blobs, ...r.manifests]) expect(file(`b/images/blobs/sha256/${digest.slice(7)}`).equals(content)).toBe(true);
    expect(JSON.parse(file("b/images/oci-layout").toString())).toEqual({ imageLayoutVersion: "1.0.0" });
    expect(read.stderr).toBe("");
    read.cleanup();
    const again = await planLayout(images, "b/images");
    expect(again.indexDigest).toBe(layout.indexDigest);
    expect((await collect(planArchive(again.entries).range(0, planArchive(again.entries).size - 1))).equals(bytes)).toBe(true);
  });

  it("refuses an index whose child is not the size it says", async () => {
    const r = registry();
    const child = r.image(["x"]);
    const index = r.manifest({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ ...child, size: child.size + 1 }] });
    await expect(planLayout([{ refName: "a:1", digest: index.digest, content: r.content, label: "acme/a:1" }], "p")).rejects.toThrow(/acme\/a:1 says .* is \d+ bytes; it is \d+/);
  });

  it("refuses digests that are not sha256, sizes that are not byte counts, a blob given two sizes", async () => {
    const r = registry();
    const cases = [
      r.manifest({ schemaVersion: 2, config: { digest: "md5:abc", size: 1 }, layers: [] }),
      r.manifest({ schemaVersion: 2, config: { digest: `sha256:${"a".repeat(64)}`, size: -1 }, layers: [] }),
      r.manifest({ schemaVersion: 2, config: { digest: `sha256:${"a".repeat(64)}`, size: 1.5 }, layers: [] }),
      r.manifest({ schemaVersion: 2, config: { digest: `sha256:${"a".repeat(64)}`, size: 2 }, layers: [{ digest: `sha256:${"a".repeat(64)}`, size: 3 }] }),
      r.manifest({ schemaVersion: 2, config: { digest: `sha256:${"a".repeat(64)}`, size: 2 }, layers: "not a list" }),
    ];
    for (const c of cases) await expect(planLayout([{ refName: "a:1", digest: c.digest, content: r.content, label: "acme/a:1" }], "p")).rejects.toMatchObject({ status: 502, code: "MANIFEST_INVALID" });
  });

  it("bounds what an index can make Gantry fetch: nesting depth and manifest count", async () => {
    const r = registry();
    let inner = r.image(["leaf"]);
    for (let i = 0; i < 4; i++) inner = r.manifest({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [inner] });
    await expect(planLayout([{ refName: "a:1", digest: inner.digest, content: r.content, label: "deep" }], "p")).rejects.toThrow(/nests indexes deeper/);
    const child = r.image(["y"]);
    const wide = r.manifest({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: Array.from({ length: 600 }, () => child) });
    await expect(planLayout([{ refName: "a:1", digest: wide.digest, content: r.content, label: "wide" }], "p")).rejects.toThrow(/more than 512 manifests/);
  });

  it("narrows an index to the release's platforms: a new index of the kept manifests and their attestations, blobs of the others left out", async () => {
    const r = registry();
    const amd = r.image(["base", "amd"], '{"architecture":"amd64"}');
    const arm = r.image(["base", "arm"], '{"architecture":"arm64"}');
    const attestation = r.image(["provenance"], '{"attest":1}');
    const index = r.manifest({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        { mediaType: "application/vnd.oci.image.manifest.v1+json", ...amd, platform: { os: "linux", architecture: "amd64" } },
        { mediaType: "application/vnd.oci.image.manifest.v1+json", ...arm, platform: { os: "linux", architecture: "arm64" } },
        { mediaType: "application/vnd.oci.image.manifest.v1+json", ...attestation, platform: { os: "unknown", architecture: "unknown" }, annotations: { "vnd.docker.reference.digest": amd.digest } },
      ],
    });
    const single = r.image(["single"]);
    const images = [
      { refName: "multi:1", digest: index.digest, content: r.content, label: "acme/multi:1" },
      { refName: "single:1", digest: single.digest, content: r.content, label: "acme/single:1" },
    ];
    const layout = await planLayout(images, "p", undefined, ["linux/amd64"]);
    const top = layout.images[0]!;
    expect(top.digest).not.toBe(index.digest);
    expect(top.platforms).toEqual(["linux/amd64"]);
    expect(layout.images[1]!.digest).toBe(single.digest); // a single-platform image is kept as it is
    const bytes = await collect(planArchive(layout.entries).range(0, planArchive(layout.entries).size - 1));
    const read = gnuTarRead(bytes);
    const file = (p: string) => fs.readFileSync(path.join(read.dir, p));
    const narrowed = file(`p/blobs/sha256/${top.digest.slice(7)}`);
    expect(digestOf(narrowed)).toBe(top.digest);
    expect((JSON.parse(narrowed.toString()) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest)).toEqual([amd.digest, attestation.digest]);
    expect(fs.existsSync(path.join(read.dir, `p/blobs/sha256/${arm.digest.slice(7)}`))).toBe(false);
    expect(fs.existsSync(path.join(read.dir, `p/blobs/sha256/${index.digest.slice(7)}`))).toBe(false);
    expect(fs.existsSync(path.join(read.dir, `p/blobs/sha256/${digestOf(Buffer.from("arm")).slice(7)}`))).toBe(false);
    read.cleanup();
    await expect(planLayout(images, "p", undefined, ["windows/amd64"])).rejects.toThrow(/acme\/multi:1 has none of the platforms this release bundles \(windows\/amd64\); it has linux\/amd64, linux\/arm64/);
  });

  it("keeps every platform of an index the release pins by digest (narrow: false)", async () => {
    const r = registry();
    const amd = r.image(["a"], '{"architecture":"amd64"}');
    const arm = r.image(["b"], '{"architecture":"arm64"}');
    const index = r.manifest({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        { ...amd, platform: { os: "linux", architecture: "amd64" } },
        { ...arm, platform: { os: "linux", architecture: "arm64" } },
      ],
    });
    const layout = await planLayout([{ refName: "m:1", digest: index.digest, content: r.content, label: "acme/m@digest", narrow: false }], "p", undefined, ["linux/amd64"]);
    expect(layout.images[0]).toMatchObject({ digest: index.digest, platforms: ["linux/amd64", "linux/arm64"] });
  });

  it("bounds the manifests a bundle holds in memory, across its images", async () => {
    const r = registry();
    // 9 indexes of 500 distinct small manifests each: 4,509 manifests, past the bundle's 4,096.
    const images = Array.from({ length: 9 }, (_, i) => {
      const children = Array.from({ length: 500 }, (_, j) => r.manifest({ schemaVersion: 2, config: { digest: `sha256:${"a".repeat(64)}`, size: 1 }, layers: [], n: `${i}-${j}` }));
      const index = r.manifest({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: children });
      return { refName: `i:${i}`, digest: index.digest, content: r.content, label: `acme/i${i}` };
    });
    await expect(planLayout(images, "p")).rejects.toThrow(/brings the bundle past 4096 manifests/);
  });
});
