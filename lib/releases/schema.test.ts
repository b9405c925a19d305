import { describe, expect, it } from "vitest";
import { createReleaseSchema, releaseParams } from "./schema";

describe("release schemas", () => {
  it("needs a valid version and at least one of manifests, files or images", () => {
    expect(createReleaseSchema.safeParse({ version: "1.0.0", images: ["busybox"] }).success).toBe(true);
    expect(createReleaseSchema.safeParse({ version: " 1.0.0 ", manifests: "" }).data?.version).toBe("1.0.0");
    expect(createReleaseSchema.safeParse({ version: "1.0.0" }).error?.issues[0]?.path).toEqual(["manifests"]);
    expect(createReleaseSchema.safeParse({ version: "-1", images: [] }).error?.issues[0]?.path).toEqual(["version"]);
    expect(createReleaseSchema.safeParse({ version: "1", notes: "x".repeat(10_001), images: [] }).success).toBe(false);
    expect(createReleaseSchema.safeParse({ version: "1", files: Array.from({ length: 51 }, () => ({ name: "a", content: "" })) }).success).toBe(false);
  });

  it("decodes the version in the path and answers NOT_FOUND for a label that is not a version", () => {
    expect(releaseParams.parse({ slug: "app", version: "1.0.0%2Bbuild.1" }).version).toBe("1.0.0+build.1");
    expect(releaseParams.parse({ slug: "app", version: "1.0.0+build.1" }).version).toBe("1.0.0+build.1");
    expect(() => releaseParams.parse({ slug: "app", version: "..%2Fx" })).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
    expect(() => releaseParams.parse({ slug: "app", version: "%E0%A4%A" })).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
  });
});
