import { execFileSync } from "node:child_process";

/**
 * A network namespace joined to this host by a veth pair, each direction
 * shaped with `tc qdisc … tbf` (these machines have tbf, not netem): the
 * upstream registry runs inside and is reached over the link the way a
 * customer reaches a registry across the internet. See
 * /work/shared/REGISTRIES.md, "Emulating a remote upstream".
 */
export interface Link {
  /** The namespace's name, for `ip netns exec`. */
  netns: string;
  /** The host end's address (10.231.N.1): a token server listening here is reachable from both sides. */
  hostIp: string;
  /** The namespace end's address (10.231.N.2): where the upstream listens. */
  nsIp: string;
  /** Limits both directions to `mbit` (call after pushing test images, so pushes are not throttled). */
  shape(mbit: number): void;
  /** Deletes the namespace, the veth pair and its qdiscs. Idempotent, synchronous (safe in an exit handler). */
  remove(): void;
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });

/**
 * Creates the namespace and link under names unique to this process. The
 * subnet is the first 10.231.N.0/24 no interface of this host uses, so two
 * benches (other worktrees) can run side by side. Throws when namespaces
 * cannot be made (not root, no CAP_NET_ADMIN); the caller falls back to loopback.
 */
export function createLink(): Link {
  const tag = `gb${process.pid.toString(36)}`;
  const netns = `${tag}ns`;
  const hostIf = `${tag}h`;
  const nsIf = `${tag}n`;
  const used = ip("-o", "-4", "addr", "show");
  let n = 0;
  while (used.includes(` 10.231.${n}.`) && n < 255) n++;
  const hostIp = `10.231.${n}.1`;
  const nsIp = `10.231.${n}.2`;
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    // Deleting the namespace destroys its veth end, which takes the peer and both qdiscs with it;
    // the host end is deleted too in case the namespace was never populated.
    for (const args of [["netns", "del", netns], ["link", "del", hostIf]]) {
      try {
        ip(...args);
      } catch {
        // already gone
      }
    }
  };
  try {
    ip("netns", "add", netns);
    ip("link", "add", hostIf, "type", "veth", "peer", "name", nsIf);
    ip("link", "set", nsIf, "netns", netns);
    ip("addr", "add", `${hostIp}/24`, "dev", hostIf);
    ip("link", "set", hostIf, "up");
    ip("netns", "exec", netns, "ip", "addr", "add", `${nsIp}/24`, "dev", nsIf);
    ip("netns", "exec", netns, "ip", "link", "set", nsIf, "up");
    ip("netns", "exec", netns, "ip", "link", "set", "lo", "up");
  } catch (e) {
    remove();
    throw e;
  }
  const tbf = (dev: string, mbit: number) => ["qdisc", "replace", "dev", dev, "root", "tbf", "rate", `${mbit}mbit`, "burst", "256kb", "latency", "50ms"];
  return {
    netns,
    hostIp,
    nsIp,
    shape: (mbit) => {
      execFileSync("tc", tbf(hostIf, mbit), { stdio: "ignore" }); // host → upstream
      ip("netns", "exec", netns, "tc", ...tbf(nsIf, mbit)); // upstream → host
    },
    remove,
  };
}
