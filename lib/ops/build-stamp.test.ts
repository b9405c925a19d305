import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";

// `npm start` rebuilds the portal only when build_fingerprint (lib/ops/common.sh) changes.
// It runs under `set -euo pipefail`: a path it cannot read ends the caller without a word,
// which is how a fresh clone (no public/: git keeps no empty folder) lost its e2e run.
let tree = "";

function checkout(files: Record<string, string>): string {
  tree = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-stamp-"));
  fs.mkdirSync(path.join(tree, "lib/ops"), { recursive: true });
  fs.copyFileSync(path.join(process.cwd(), "lib/ops/common.sh"), path.join(tree, "lib/ops/common.sh"));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(tree, name)), { recursive: true });
    fs.writeFileSync(path.join(tree, name), content);
  }
  return tree;
}

// As test.sh calls it: a plain statement, where `set -e` applies (an `&&` list would suspend it).
function fingerprint(dir: string): string {
  return execFileSync("bash", ["-c", "source lib/ops/common.sh; build_fingerprint; echo finished"], { cwd: dir, encoding: "utf8" });
}

afterEach(() => {
  if (tree) fs.rmSync(tree, { recursive: true, force: true });
});

describe("the build fingerprint", () => {
  it("is computed in a checkout without public/ (or other optional files) and follows the sources, not the tests", () => {
    const dir = checkout({ "app/page.tsx": "export default 1;\n", "lib/x.ts": "export const x = 1;\n", "lib/x.test.ts": "// a test\n", "package.json": "{}\n" });
    const first = fingerprint(dir);
    expect(first).toMatch(/^[0-9a-f]{64}\nfinished\n$/);
    expect(fingerprint(dir)).toBe(first);

    fs.writeFileSync(path.join(dir, "lib/x.test.ts"), "// another test\n");
    expect(fingerprint(dir)).toBe(first);

    fs.writeFileSync(path.join(dir, "lib/x.ts"), "export const x = 2;\n");
    const second = fingerprint(dir);
    expect(second).not.toBe(first);

    fs.writeFileSync(path.join(dir, "package-lock.json"), "{}\n");
    expect(fingerprint(dir)).not.toBe(second);
  });
});
