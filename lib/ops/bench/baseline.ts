import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { atExit } from "./cleanups";
import { startGantry } from "./gantry-process";
import type { SweepVariant } from "./sweep";

/**
 * SWEEP_BASELINE=<commit>: Gantry as of another commit, run beside this
 * checkout's in the same bench, so "before" and "after" share the machine's
 * load instead of being measured an hour apart. The commit's tree is exported
 * (`git archive`, nothing in the repository changes) into a scratch folder that
 * borrows this checkout's node_modules and generated Prisma clients (ignored
 * by git), and serves through this checkout's bench server (proxy-server.ts:
 * the same statistics), which loads that commit's lib/server and lib/proxy.
 */
export function prepareBaseline(ref: string, root: string, scratch: string): { dir: string; commit: string } {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
  const commit = git("rev-parse", "--verify", `${ref}^{commit}`);
  const dir = fs.mkdtempSync(path.join(scratch, "baseline-"));
  execFileSync("sh", ["-c", 'git archive --format=tar "$1" | tar -x -C "$2"', "sh", commit, dir], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  for (const shared of ["node_modules", "generated"]) {
    if (!fs.existsSync(path.join(dir, shared))) fs.symlinkSync(path.join(root, shared), path.join(dir, shared));
  }
  const server = path.join("lib", "ops", "bench", "proxy-server.ts");
  fs.copyFileSync(path.join(root, server), path.join(dir, server));
  return { dir, commit };
}

/**
 * The baseline Gantry for the sweep: started from `dir` on its own port and
 * cache folder (same database), warmed with `warm(host)`, as a sweep variant.
 */
export async function startBaselineGantry(opts: {
  dir: string;
  commit: string;
  port: number;
  env: Record<string, string>;
  /** The manifest URL path (/v2/…) and headers minus the token, which `token(host)` gets from that Gantry. */
  path: string;
  headers: Record<string, string>;
  token: (host: string) => Promise<string>;
  warm: (host: string) => Promise<void>;
}): Promise<SweepVariant & { stop(): Promise<void>; kill(): void }> {
  const gantry = await startGantry({ port: opts.port, root: opts.dir, env: { ...opts.env, GANTRY_CACHE_DIR: path.join(opts.dir, "cache") } });
  atExit(() => gantry.kill());
  const host = `127.0.0.1:${opts.port}`;
  await opts.warm(host);
  return {
    name: `Gantry ${opts.commit.slice(0, 7)}`,
    url: `http://${host}${opts.path}`,
    headers: { ...opts.headers, authorization: `Bearer ${await opts.token(host)}` },
    loopStats: () => gantry.loopStats(),
    stop: () => gantry.stop(),
    kill: () => gantry.kill(),
  };
}
