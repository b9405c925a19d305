import fs from "node:fs";
import path from "node:path";
import type { RunningDockerd } from "../testing/dockerd";
import { DEPLOY_CACHE } from "./npm-cache";

/**
 * The image test's Docker engine keeps its data root under node_modules/.cache
 * between runs, so a re-run builds on its own layer cache: the bases, the
 * runtime stage's apt layer and the build stage's `npm ci` (better-sqlite3
 * compiling) are reused while package.json and the lockfile stay the same, and
 * only the sources' layers are built again. One engine per data root: a
 * second run at the same time (another worktree's) gets a throwaway root.
 */
const ROOT = path.join(DEPLOY_CACHE, "docker-root");
const LOCK = `${ROOT}.lock`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The cached data root, locked for this process; undefined when another live process holds it. */
export function lockEngineRoot(): { dataRoot: string; release(): void } | undefined {
  fs.mkdirSync(DEPLOY_CACHE, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(LOCK, String(process.pid), { flag: "wx" });
      fs.mkdirSync(ROOT, { recursive: true });
      return { dataRoot: ROOT, release: () => fs.rmSync(LOCK, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const holder = Number(fs.readFileSync(LOCK, "utf8").trim());
      if (holder && alive(holder)) return undefined;
      fs.rmSync(LOCK, { force: true }); // left by a run that died
    }
  }
  return undefined;
}

/**
 * What a run leaves in a kept engine: its image under a moving `:last` tag
 * (the layers the next build may share), nothing of older runs (`docker image
 * prune` removes what no tag reaches any more).
 */
export async function keepLast(dockerd: RunningDockerd, images: { image: string; last: string }[]): Promise<void> {
  for (const { image, last } of images) {
    await dockerd.docker(["tag", image, last]);
    await dockerd.docker(["rmi", image]);
  }
  await dockerd.docker(["image", "prune", "--force"], { timeoutMs: 300_000 });
}
