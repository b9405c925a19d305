import crypto from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { digestInPin, forgetPinnedDigestsForTests, noteManifest, noteTag, type DigestSource } from "./pinned-digests";
import type { PinnedScope } from "./scope";

/**
 * The by-digest rule for pinned licenses, without I/O: what is known in memory
 * answers at once; what is not is asked of the record once per interval and
 * an index is read once, however many refused requests come in.
 */
const sha = (s: string | Buffer) => `sha256:${crypto.createHash("sha256").update(s).digest("hex")}`;
const pin = { maxVersion: "1.0.0", releasedBefore: null };
const scope = (tags: string[], digests: string[] = []): PinnedScope => ({ kind: "pinned", pin, tags: new Set(tags), digests: new Set(digests) });
const indexBody = (children: string[]) => Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: children.map((digest) => ({ mediaType: "application/vnd.oci.image.manifest.v1+json", digest, size: 1 })) }));

function source(opts: { current?: { tag: string; digest: string }[]; manifests?: Map<string, Buffer>; failReads?: boolean } = {}) {
  const calls = { current: 0, reads: 0 };
  const s: DigestSource = {
    key: "proxy\u0000reg\u0000acme/api",
    currentDigests: async (tags) => {
      calls.current++;
      return (opts.current ?? []).filter((c) => tags.includes(c.tag));
    },
    manifest: async (digest) => {
      calls.reads++;
      if (opts.failReads) throw new Error("upstream down");
      return opts.manifests?.get(digest) ?? null;
    },
  };
  return { s, calls };
}

beforeEach(() => forgetPinnedDigestsForTests());

describe("digestInPin", () => {
  const v1 = sha("1.0.0");
  const v2 = sha("2.0.0");

  it("allows the digests a release recorded, and what an allowed tag was seen as, from memory", async () => {
    const { s, calls } = source();
    expect(await digestInPin(scope(["1.0.0"], [v1]), v1, s)).toBe(true);
    noteTag(s.key, "1.0.0", sha("re-pushed"));
    noteTag(s.key, "2.0.0", v2);
    expect(await digestInPin(scope(["1.0.0"], [v1]), sha("re-pushed"), s)).toBe(true);
    expect(calls).toEqual({ current: 0, reads: 0 });
    // 2.0.0's digest is known, as another tag's: refused.
    expect(await digestInPin(scope(["1.0.0"], [v1]), v2, s)).toBe(false);
  });

  it("does not mix repositories: a tag seen in another repository allows nothing here", async () => {
    const { s } = source();
    noteTag("proxy\u0000reg\u0000acme/other", "1.0.0", v2);
    expect(await digestInPin(scope(["1.0.0"]), v2, s)).toBe(false);
  });

  it("allows what the record says an allowed tag is now (another replica pulled it)", async () => {
    const now = sha("now");
    const { s, calls } = source({ current: [{ tag: "1.0.0", digest: now }, { tag: "2.0.0", digest: v2 }] });
    expect(await digestInPin(scope(["1.0.0"]), now, s)).toBe(true);
    expect(await digestInPin(scope(["1.0.0"]), now, s)).toBe(true);
    expect(calls.current).toBe(1); // noted: the second check is in memory
    expect(await digestInPin(scope(["1.0.0"]), v2, s)).toBe(false);
  });

  it("allows the children of an allowed index, noted as it passed or read once, and only if its bytes hash to its digest", async () => {
    const [amd, arm] = [sha("amd64"), sha("arm64")];
    const index = indexBody([amd, arm]);
    const { s, calls } = source();
    noteManifest(sha(index), index, "application/vnd.oci.image.index.v1+json");
    expect(await digestInPin(scope([], [sha(index)]), arm, s)).toBe(true);
    expect(calls.reads).toBe(0);

    forgetPinnedDigestsForTests();
    const read = source({ manifests: new Map([[sha(index), index]]) });
    expect(await digestInPin(scope([], [sha(index)]), amd, read.s)).toBe(true);
    expect(await digestInPin(scope([], [sha(index)]), arm, read.s)).toBe(true);
    expect(read.calls.reads).toBe(1);

    // A registry that answers other bytes for the index's digest unlocks nothing.
    forgetPinnedDigestsForTests();
    const liar = source({ manifests: new Map([[sha(index), indexBody([v2])]]) });
    expect(await digestInPin(scope([], [sha(index)]), v2, liar.s)).toBe(false);
  });

  it("bounds what a flood of refused digests costs: one record lookup per interval, each index read once, failed reads not retried at once", async () => {
    const index = indexBody([sha("child")]);
    // The record is asked again after 750 ms, a failed read after 5 s: bounds that hold on a slow machine too.
    const flood = async (s: DigestSource) => {
      const started = Date.now();
      for (let i = 0; i < 200; i++) expect(await digestInPin(scope(["1.0.0"]), sha(`random ${i}`), s)).toBe(false);
      return Date.now() - started;
    };
    const ok = source({ current: [{ tag: "1.0.0", digest: sha(index) }], manifests: new Map([[sha(index), index]]) });
    const okMs = await flood(ok.s);
    expect(ok.calls.current).toBeLessThanOrEqual(1 + Math.floor(okMs / 750));
    expect(ok.calls.reads).toBe(1);

    forgetPinnedDigestsForTests();
    const down = source({ current: [{ tag: "1.0.0", digest: sha(index) }], failReads: true });
    const downMs = await flood(down.s);
    expect(down.calls.current).toBeLessThanOrEqual(1 + Math.floor(downMs / 750));
    expect(down.calls.reads).toBeLessThanOrEqual(1 + Math.floor(downMs / 5000));
  });
});
