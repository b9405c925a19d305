import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/**
 * What `npm ci` checks before it installs anything: every dependency of every
 * package in the lockfile resolves, by Node's lookup (the package's own
 * node_modules, then each parent's), to an entry of the lockfile — optional
 * ones for other platforms included. A lockfile written by `npm install` on one
 * platform can lack them ("Missing: @tailwindcss/oxide-darwin-arm64 from lock
 * file"), and `npm ci` then fails on a Mac or in a vendor's CI.
 */
function missingFromLock(lock: { packages: Record<string, LockEntry> }): string[] {
  const has = (p: string) => Object.hasOwn(lock.packages, p);
  const resolves = (from: string, name: string) => {
    for (let dir = from; ; ) {
      if (has(path.posix.join(dir, "node_modules", name))) return true;
      if (dir === "") return false;
      const up = dir.lastIndexOf("/node_modules/");
      dir = up === -1 ? "" : dir.slice(0, up);
    }
  };
  const missing: string[] = [];
  for (const [at, entry] of Object.entries(lock.packages)) {
    const wanted = { ...entry.dependencies, ...entry.optionalDependencies, ...(at === "" ? entry.devDependencies : {}) };
    for (const [name, peer] of Object.entries(entry.peerDependencies ?? {})) if (!entry.peerDependenciesMeta?.[name]?.optional) wanted[name] = peer;
    for (const name of Object.keys(wanted)) if (!resolves(at, name)) missing.push(`${name} (for ${at || "the project"})`);
  }
  return missing;
}

describe("package-lock.json", () => {
  it("holds every package npm ci needs on any platform (other platforms' optional binaries included)", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(process.cwd(), "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
    expect(missingFromLock(lock)).toEqual([]);
    // The platforms a vendor's laptop or CI runs on, for the native packages Gantry builds with.
    for (const p of ["@tailwindcss/oxide-darwin-arm64", "@tailwindcss/oxide-win32-x64-msvc", "lightningcss-darwin-arm64", "@next/swc-darwin-arm64", "@next/swc-linux-arm64-gnu"]) {
      expect(Object.hasOwn(lock.packages, `node_modules/${p}`), p).toBe(true);
    }
  });

  it("the check finds a missing optional binary", () => {
    const lock = { packages: { "": { dependencies: { a: "1" } }, "node_modules/a": { optionalDependencies: { "a-darwin-arm64": "1", "a-linux-x64": "1" } }, "node_modules/a-linux-x64": {} } };
    expect(missingFromLock(lock)).toEqual(["a-darwin-arm64 (for node_modules/a)"]);
  });
});
