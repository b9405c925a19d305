import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A hostile "registry" for tests: a small node:http server that speaks just
 * enough of the registry API for Gantry to talk to it (/v2/ with a Bearer
 * challenge pointing at its own /token, manifests, blobs, tags) and then
 * misbehaves. What it does depends on the repository's first path component:
 *
 *   ok/…           a small, valid manifest / blob / tag list
 *   endless/…      a 200 body that never ends (chunked, written as fast as the socket drains)
 *   huge/…         a 100 MB body with a correct Content-Length
 *   huge-chunked/… a 100 MB body without Content-Length
 *   drip/…         a 200 whose body is one byte every `dripMs` (never ends)
 *   redirect/…     a 307 to `redirectTo` (another server, e.g. an internal one)
 *
 * The token endpoint (/token) answers per `tokenMode`:
 *   normal        a small token
 *   huge          a 10 MB JSON answer with Content-Length
 *   huge-chunked  a 10 MB JSON answer without Content-Length
 *   per-scope     a new ~60 KiB token for every distinct scope (just under Gantry's 64 KiB cap)
 * `realm` replaces the challenge's realm (e.g. a token server on another host).
 *
 * Any Bearer token is accepted. Every request is counted; every write waits
 * for 'drain', so the attacker's own memory stays flat and the test's RSS
 * figures measure Gantry.
 */
export type TokenMode = "normal" | "huge" | "huge-chunked" | "per-scope";

export interface HostileOptions {
  auth?: "none" | "token";
  tokenMode?: TokenMode;
  /** Challenge realm; default http://127.0.0.1:PORT/token (this server). */
  realm?: string;
  redirectTo?: string;
  dripMs?: number;
}

export interface HostileRegistry {
  port: number;
  host: string;
  url: string;
  options: HostileOptions;
  requests: { method: string; path: string }[];
  tokenRequests(): number;
  /** Bytes this server has written into bodies (what an attacker spent). */
  bytesSent(): number;
  /** Bodies still being written. */
  openStreams(): number;
  stop(): Promise<void>;
}

const SMALL_MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${"0".repeat(64)}`, size: 2 },
    layers: [],
  }),
);
const MB = 1024 * 1024;

export async function startHostileRegistry(options: HostileOptions = {}): Promise<HostileRegistry> {
  const requests: { method: string; path: string }[] = [];
  let tokens = 0;
  let sent = 0;
  let open = 0;
  let port = 0;

  /** Writes `total` bytes (Infinity: forever) in 64 KiB chunks, honouring backpressure. */
  const stream = (res: http.ServerResponse, total: number, fill = 0x20) => {
    open++;
    let left = total;
    const chunk = Buffer.alloc(64 * 1024, fill);
    let done = false;
    const finish = () => {
      if (!done) open--;
      done = true;
    };
    res.on("close", finish);
    const pump = () => {
      while (!done && left > 0) {
        const n = Math.min(chunk.length, left);
        left -= n;
        sent += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          res.once("drain", pump);
          return;
        }
      }
      if (!done && left <= 0) res.end();
    };
    pump();
  };

  const drip = (res: http.ServerResponse) => {
    open++;
    const timer = setInterval(() => {
      sent++;
      res.write(" ");
    }, options.dripMs ?? 25_000);
    res.on("close", () => {
      clearInterval(timer);
      open--;
    });
  };

  const token = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    tokens++;
    const mode = options.tokenMode ?? "normal";
    if (mode === "huge" || mode === "huge-chunked") {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (mode === "huge") headers["content-length"] = String(10 * MB);
      res.writeHead(200, headers);
      // A JSON string that never closes before the cap: {"token":"xxxx…
      res.write('{"token":"');
      stream(res, 10 * MB - 10, 0x78);
      return;
    }
    let value = crypto.randomBytes(16).toString("hex");
    if (mode === "per-scope") {
      const scope = url.searchParams.getAll("scope").join(" ");
      value = `${crypto.createHash("sha256").update(scope).digest("hex")}.${"A".repeat(60 * 1024)}`;
    }
    const body = JSON.stringify({ token: value, expires_in: 300 });
    res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
    res.end(body);
  };

  // A ~60 KiB bearer token needs a larger header limit than Node's default 16 KiB.
  const server = http.createServer({ maxHeaderSize: 256 * 1024 }, (req, res) => {
    const url = new URL(req.url ?? "/", "http://hostile.invalid");
    if (url.pathname === "/__hostile/stats") {
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ requests: requests.length, tokens, sent, open }));
    }
    requests.push({ method: req.method ?? "GET", path: url.pathname });
    if (url.pathname === "/token") return token(req, res, url);
    const m = /^\/v2\/(?:(.+)\/(manifests|blobs|tags)\/(.*))?$/.exec(url.pathname);
    if (!m) return void res.writeHead(404).end();
    const [, repo = "", kind = "", ] = m;
    if ((options.auth ?? "token") === "token" && !String(req.headers.authorization ?? "").startsWith("Bearer ")) {
      const realm = options.realm ?? `http://127.0.0.1:${port}/token`;
      const scope = repo ? `,scope="repository:${repo}:pull"` : "";
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": `Bearer realm="${realm}",service="hostile"${scope}` });
      return void res.end('{"errors":[{"code":"UNAUTHORIZED","message":"auth"}]}');
    }
    if (!repo) return void res.writeHead(200, { "content-type": "application/json" }).end("{}");
    const mode = repo.split("/")[0];
    const type = kind === "manifests" ? "application/vnd.oci.image.manifest.v1+json" : kind === "tags" ? "application/json" : "application/octet-stream";
    const digest = `sha256:${"e".repeat(64)}`;
    if (req.method === "HEAD") return void res.writeHead(200, { "content-type": type, "content-length": String(SMALL_MANIFEST.length), "docker-content-digest": digest }).end();
    switch (mode) {
      case "ok":
        if (kind === "tags") return void res.writeHead(200, { "content-type": type }).end(JSON.stringify({ name: repo, tags: ["1"] }));
        return void res.writeHead(200, { "content-type": type, "content-length": String(SMALL_MANIFEST.length), "docker-content-digest": digest }).end(SMALL_MANIFEST);
      case "endless":
        res.writeHead(200, { "content-type": type, "docker-content-digest": digest });
        return kind === "tags" ? (res.write('{"name":"x","tags":["'), stream(res, Infinity, 0x61)) : stream(res, Infinity);
      case "huge":
        res.writeHead(200, { "content-type": type, "content-length": String(100 * MB), "docker-content-digest": digest });
        return stream(res, 100 * MB);
      case "huge-chunked":
        res.writeHead(200, { "content-type": type, "docker-content-digest": digest });
        return stream(res, 100 * MB);
      case "drip":
        res.writeHead(200, { "content-type": type, "docker-content-digest": digest, ...(kind === "blobs" ? { "content-length": String(MB) } : {}) });
        return drip(res);
      case "redirect":
        return void res.writeHead(307, { location: options.redirectTo ?? "http://127.0.0.1:1/" }).end();
      default:
        return void res.writeHead(404, { "content-type": "application/json" }).end('{"errors":[{"code":"NAME_UNKNOWN","message":"unknown"}]}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  return {
    port,
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    options,
    requests,
    tokenRequests: () => tokens,
    bytesSent: () => sent,
    openStreams: () => open,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A plain server standing in for an internal service: counts what reaches it. */
export async function startCountingServer(body = "internal secret"): Promise<{ port: number; url: string; count(): number; stop(): Promise<void> }> {
  let n = 0;
  const server = http.createServer((_req, res) => {
    n++;
    res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    count: () => n,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The same hostile registry in a child process (`node --import tsx`), so an
 * attack's CPU and buffers are not the test process's: RSS and latency figures
 * then measure Gantry alone, as with a remote attacker. Counters come from
 * its /__hostile/stats endpoint.
 */
export interface HostileProcess {
  port: number;
  host: string;
  url: string;
  stats(): Promise<{ requests: number; tokens: number; sent: number; open: number }>;
  stop(): Promise<void>;
}

export async function startHostileRegistryProcess(options: HostileOptions = {}): Promise<HostileProcess> {
  const { spawn } = await import("node:child_process");
  const path = await import("node:path");
  const main = path.join(import.meta.dirname, "hostile-main.ts");
  // At the lowest CPU priority: a real attacker's CPU is on another machine; here
  // it shares two cores with Gantry, and should not win them by being busier.
  const child = spawn("nice", ["-n", "19", process.execPath, "--import", "tsx", main, JSON.stringify(options)], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const m = /"port":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`hostile registry process exited (${code}) before listening`)));
    setTimeout(() => reject(new Error("hostile registry process did not start in 30 s")), 30_000).unref();
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    port,
    host: `127.0.0.1:${port}`,
    url,
    stats: async () => (await (await fetch(`${url}/__hostile/stats`)).json()) as { requests: number; tokens: number; sent: number; open: number },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
