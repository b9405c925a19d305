import { describe, expect, it } from "vitest";
import { archiveRange } from "./archive-range";

describe("archiveRange", () => {
  const size = 10_000;
  const etag = '"sha256:abc"';

  it("sends the whole archive without a Range, advertising ranges", () => {
    expect(archiveRange(size, {})).toEqual({ status: 200, start: 0, end: 9_999, headers: { "accept-ranges": "bytes", "content-length": "10000" } });
  });

  it("resumes from a byte (`bytes=a-`), answers a suffix and clamps an end past the archive", () => {
    expect(archiveRange(size, { range: "bytes=4000-" })).toEqual({
      status: 206,
      start: 4_000,
      end: 9_999,
      headers: { "accept-ranges": "bytes", "content-length": "6000", "content-range": "bytes 4000-9999/10000" },
    });
    expect(archiveRange(size, { range: "bytes=-100" })).toMatchObject({ status: 206, start: 9_900, end: 9_999 });
    expect(archiveRange(size, { range: "bytes=10-99999" })).toMatchObject({ status: 206, start: 10, end: 9_999 });
  });

  it("answers 416 for a range past the end, and the whole archive for what is not one byte range", () => {
    expect(archiveRange(size, { range: "bytes=10000-" })).toEqual({ status: 416, headers: { "content-range": "bytes */10000" } });
    expect(archiveRange(size, { range: "bytes=0-1,5-6" })).toMatchObject({ status: 200, start: 0, end: 9_999 });
    expect(archiveRange(size, { range: "items=0-1" })).toMatchObject({ status: 200 });
  });

  it("honours If-Range: the same ETag resumes, another sends the whole (the bundle changed since)", () => {
    expect(archiveRange(size, { range: "bytes=500-", ifRange: etag, etag })).toMatchObject({ status: 206, start: 500 });
    expect(archiveRange(size, { range: "bytes=500-", ifRange: '"sha256:old"', etag })).toMatchObject({ status: 200, start: 0 });
    expect(archiveRange(size, { range: "bytes=500-", ifRange: "Wed, 21 Oct 2015 07:28:00 GMT", etag })).toMatchObject({ status: 200 });
  });
});
