import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "./registries/ports";

/**
 * Debian's Caddy in front of a Gantry server, as the README tells operators to
 * run it: on-demand TLS that asks Gantry's /tls/ask before it obtains a
 * certificate for a name, and Caddy's internal CA as the issuer (no ACME
 * server needed). Its own ports, storage and root certificate in a temp dir;
 * the root is not installed anywhere (skip_install_trust): clients are given
 * it explicitly. Needs the `caddy` binary.
 */
export interface RunningCaddy {
  httpsPort: number;
  dir: string;
  /** The Caddyfile it runs (what the README shows, with test ports). */
  caddyfile: string;
  /** Caddy's local root certificate (PEM), once it has made it (first certificate). */
  rootPem(): string;
  log(): string;
  stop(): Promise<void>;
}

export function caddyAvailable(): boolean {
  return ["/usr/bin/caddy", "/usr/local/bin/caddy"].some((p) => fs.existsSync(p));
}

export async function startCaddy(opts: { upstreamPort: number }): Promise<RunningCaddy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-caddy-"));
  const [httpsPort, httpPort] = [await freePort(), await freePort()];
  const caddyfile = `{
	admin off
	skip_install_trust
	http_port ${httpPort}
	https_port ${httpsPort}
	storage file_system ${path.join(dir, "data")}
	auto_https disable_redirects
	on_demand_tls {
		ask http://127.0.0.1:${opts.upstreamPort}/tls/ask
	}
}

https:// {
	tls internal {
		on_demand
	}
	reverse_proxy 127.0.0.1:${opts.upstreamPort}
}
`;
  const file = path.join(dir, "Caddyfile");
  fs.writeFileSync(file, caddyfile);
  let output = "";
  const child: ChildProcess = spawn("caddy", ["run", "--config", file, "--adapter", "caddyfile"], {
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: path.join(dir, "xdg-data"), XDG_CONFIG_HOME: path.join(dir, "xdg-config") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`caddy exited:\n${output}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(httpsPort, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`caddy did not listen on ${httpsPort}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const root = path.join(dir, "data", "pki", "authorities", "local", "root.crt");
  return {
    httpsPort,
    dir,
    caddyfile,
    rootPem: () => fs.readFileSync(root, "utf8"),
    log: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
