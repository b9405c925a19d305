import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { exec, timed } from "./pulls";

/**
 * `skopeo copy` with an empty blob-info cache of its own. skopeo
 * (containers/image) remembers where it saw each blob, for root in
 * /var/lib/containers/cache/blob-info-cache-v1.boltdb, and reuses that on the
 * next copy (a push cross-repository-mounts a layer instead of sending it).
 * skopeo 1.9 has no flag for the cache's location and deleting the shared
 * file would disturb other users of skopeo on the machine, so as root each
 * copy runs in its own mount namespace (`unshare --mount`) with an empty temp
 * dir bind-mounted over /var/lib/containers/cache; not as root,
 * XDG_DATA_HOME points at an empty temp dir (rootless skopeo's cache). ~10 ms.
 */
const isRoot = process.getuid?.() === 0;
const SYSTEM_CACHE = "/var/lib/containers/cache";

/** The tools isolatedSkopeoCopy needs besides skopeo. */
export const isolationTools = isRoot ? ["unshare", "mount"] : [];

/** Throws when the blob-info cache cannot be isolated here (root without `unshare --mount`). */
export function checkIsolation(): void {
  if (!isRoot) return;
  try {
    execFileSync("unshare", ["--mount", "--propagation", "private", "true"], { stdio: "ignore" });
  } catch {
    throw new Error("`unshare --mount` is not allowed here: skopeo's blob-info cache cannot be isolated, and pushes would mount instead of upload. Run as a non-root user (its cache then follows XDG_DATA_HOME).");
  }
}

/** `skopeo copy <args>`; the empty cache is a temp dir under `scratch`. Returns the wall time and skopeo's output. */
export async function isolatedSkopeoCopy(args: string[], scratch: string): Promise<{ seconds: number; output: string }> {
  const cache = fs.mkdtempSync(path.join(scratch, "blob-info-cache-"));
  const [cmd, argv] = isRoot
    ? ["unshare", ["--mount", "--propagation", "private", "sh", "-c", `mkdir -p ${SYSTEM_CACHE} && mount --bind "$0" ${SYSTEM_CACHE} && exec skopeo "$@"`, cache, "copy", ...args]]
    : ["env", [`XDG_DATA_HOME=${cache}`, "skopeo", "copy", ...args]];
  try {
    const { seconds, value } = await timed(() => exec(cmd, argv, 1_800_000));
    return { seconds, output: `${value.stdout}${value.stderr}` };
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    throw new Error(`skopeo copy ${args.slice(-2).join(" → ")}: ${(err.stderr || err.message || String(e)).trim().split("\n").slice(-3).join(" ").slice(0, 500)}`);
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
}
