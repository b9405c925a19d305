import { execFile, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type { RunningRegistry } from "@/lib/testing/registries/harness";

const execFileAsync = promisify(execFile);

/** Every child the bench starts, so an interrupted run can kill them all. */
export const children = new Set<ChildProcess>();

/** execFile, tracked in `children`, with a timeout. */
export function exec(cmd: string, args: string[], timeoutMs = 600_000): Promise<{ stdout: string; stderr: string }> {
  const p = execFileAsync(cmd, args, { maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs, killSignal: "SIGKILL", encoding: "utf8" });
  children.add(p.child);
  p.child.once("exit", () => children.delete(p.child));
  return p;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - started) / 1000, value };
}

/** `skopeo copy` of `src` (docker://…) into a new OCI layout under `sink`; returns the layout's directory. */
export async function pull(src: string, creds: string, sink: string, timeoutMs?: number): Promise<string> {
  const dest = fs.mkdtempSync(path.join(sink, "copy-"));
  try {
    await exec("skopeo", ["copy", "--quiet", "--src-tls-verify=false", "--src-creds", creds, src, `oci:${dest}:img`], timeoutMs);
  } catch (e) {
    fs.rmSync(dest, { recursive: true, force: true });
    const err = e as { stderr?: string; message?: string };
    throw new Error((err.stderr || err.message || String(e)).trim().split("\n").slice(-2).join(" ").slice(0, 300));
  }
  return dest;
}

/** A pull whose copy is thrown away; returns its wall time in seconds. */
export async function timedPull(src: string, creds: string, sink: string): Promise<number> {
  const { seconds, value } = await timed(() => pull(src, creds, sink));
  fs.rmSync(value, { recursive: true, force: true });
  return seconds;
}

/** sha256 of every file under `dir`, by relative path. */
export async function hashTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const hash = crypto.createHash("sha256");
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
    out.set(path.relative(dir, file), hash.digest("hex"));
  }
  return out;
}

/** The manifest, config and layer digests of the single image in an OCI layout. */
export function layoutBlobs(layoutDir: string): { manifest: string; config: string; layers: { digest: string; size: number }[] } {
  const index = JSON.parse(fs.readFileSync(path.join(layoutDir, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  const manifest = index.manifests[0]?.digest;
  if (!manifest) throw new Error(`no manifest in ${layoutDir}`);
  const body = JSON.parse(fs.readFileSync(path.join(layoutDir, "blobs", "sha256", manifest.slice(7)), "utf8")) as {
    config: { digest: string };
    layers: { digest: string; size: number }[];
  };
  return { manifest, config: body.config.digest, layers: body.layers.map((l) => ({ digest: l.digest, size: l.size })) };
}

/**
 * Waits until the upstream has logged everything sent so far (a marker request
 * comes back in its log), without clearing the log like flushRequests does.
 */
export async function settled(upstream: RunningRegistry): Promise<void> {
  const marker = `/v2/?gantry-bench-mark=${crypto.randomUUID()}`;
  await (await fetch(`${upstream.url}${marker}`)).arrayBuffer();
  const deadline = Date.now() + 10_000;
  while (!upstream.requests().some((r) => r.path === marker)) {
    if (Date.now() > deadline) throw new Error("the upstream did not log the marker within 10 s");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Successful upstream GETs per blob digest of `repo` since the log was last cleared. */
export function blobGets(upstream: RunningRegistry, repo: string): Map<string, number> {
  const counts = new Map<string, number>();
  const prefix = `/v2/${repo}/blobs/`;
  for (const r of upstream.requests()) {
    if (r.method !== "GET" || r.status >= 400 || !r.path.startsWith(prefix)) continue;
    const digest = r.path.slice(prefix.length).split("?")[0]!;
    counts.set(digest, (counts.get(digest) ?? 0) + 1);
  }
  return counts;
}

/** A Bearer token from a registry's token endpoint (Basic credentials `user:password`). */
export async function bearerToken(realm: string, service: string, scope: string, creds: string): Promise<string> {
  const url = `${realm}?service=${encodeURIComponent(service)}&scope=${encodeURIComponent(scope)}`;
  const res = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(creds).toString("base64")}` } });
  if (!res.ok) throw new Error(`token request to ${realm} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  const body = (await res.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) throw new Error(`no token from ${realm}`);
  return token;
}
