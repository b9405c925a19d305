import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { NODE_VERSION } from "./base-images";

const ROOT = path.resolve(__dirname, "../..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

/**
 * One Node version for `npm test`/`npm start` (lib/ops/common.sh), the image's
 * default bases (Dockerfile) and the bases the image test builds offline; and
 * never one of 24.19 to 24.21, which abort better-sqlite3 11 when the garbage
 * collector frees a statement outside JavaScript (see lib/ops/common.sh).
 */
describe("the Node version", () => {
  const common = /^GANTRY_NODE_VERSION=(\S+)$/m.exec(read("lib/ops/common.sh"))?.[1];
  const dockerfile = read("Dockerfile");
  const bases = [...dockerfile.matchAll(/^ARG (BASE|RUNTIME_BASE)=node:(\S+?)-bookworm(-slim)?$/gm)].map((m) => m[2]);

  it("is the same in lib/ops/common.sh, the Dockerfile's two bases and the image test's bases", () => {
    expect(common).toMatch(/^24\.\d+\.\d+$/);
    expect(bases).toEqual([common, common]);
    expect(NODE_VERSION).toBe(common);
  });

  it("is not a Node 24 that aborts better-sqlite3 11", () => {
    const minor = Number(common!.split(".")[1]);
    expect(minor < 19 || minor > 21).toBe(true);
  });
});
