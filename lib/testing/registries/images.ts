import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { RunningRegistry } from "./harness";

const run = promisify(execFile);

/** Small OCI images built offline with umoci, pushed with skopeo. */
export interface BuiltImage {
  layoutDir: string;
  tag: string;
}

const cache = new Map<string, BuiltImage>();
let root: string | undefined;
function workDir(): string {
  root ??= fs.mkdtempSync(path.join(os.tmpdir(), "gantry-images-"));
  return root;
}

/** An image with one layer holding `files` (and optionally `randomBytes` of random data). */
export async function buildImage(opts: { files?: Record<string, string>; randomBytes?: number; arch?: string; tag?: string } = {}): Promise<BuiltImage> {
  const key = JSON.stringify(opts);
  const hit = cache.get(key);
  if (hit) return hit;
  const tag = opts.tag ?? "latest";
  const layoutDir = path.join(workDir(), crypto.randomBytes(6).toString("hex"));
  const image = `${layoutDir}:${tag}`;
  await run("umoci", ["init", "--layout", layoutDir]);
  await run("umoci", ["new", "--image", image]);
  await run("umoci", ["config", "--image", image, "--architecture", opts.arch ?? "amd64", "--os", "linux", "--config.cmd", "/hello"]);
  const content = path.join(layoutDir, "..", `${path.basename(layoutDir)}-content`);
  fs.mkdirSync(content, { recursive: true });
  for (const [name, text] of Object.entries(opts.files ?? { "hello.txt": `hello ${crypto.randomUUID()}\n` })) {
    fs.writeFileSync(path.join(content, name), text);
  }
  if (opts.randomBytes) {
    const fd = fs.openSync(path.join(content, "random.bin"), "w");
    const chunk = 8 * 1024 * 1024;
    for (let left = opts.randomBytes; left > 0; left -= chunk) fs.writeSync(fd, crypto.randomBytes(Math.min(chunk, left)));
    fs.closeSync(fd);
  }
  await run("umoci", ["insert", "--image", image, content, "/data"], { maxBuffer: 64 * 1024 * 1024 });
  fs.rmSync(content, { recursive: true, force: true });
  const built = { layoutDir, tag };
  cache.set(key, built);
  return built;
}

/**
 * An OCI image index listing an amd64 and an arm64 image, written into a new
 * layout by hand (umoci builds single-platform images only); with
 * `randomBytes`, each platform's layer holds that much random data too.
 */
export async function buildMultiArchIndex(tag = "multi", opts: { randomBytes?: number } = {}): Promise<BuiltImage> {
  const key = `index:${tag}:${opts.randomBytes ?? 0}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const random = opts.randomBytes ? { randomBytes: opts.randomBytes } : {};
  const amd = await buildImage({ arch: "amd64", files: { "arch.txt": "amd64\n" }, tag: "amd64", ...random });
  const arm = await buildImage({ arch: "arm64", files: { "arch.txt": "arm64\n" }, tag: "arm64", ...random });
  const layoutDir = path.join(workDir(), `index-${crypto.randomBytes(4).toString("hex")}`);
  fs.mkdirSync(path.join(layoutDir, "blobs", "sha256"), { recursive: true });
  fs.writeFileSync(path.join(layoutDir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const manifests: { mediaType: string; digest: string; size: number; platform: { architecture: string; os: string } }[] = [];
  for (const [src, arch] of [[amd, "amd64"], [arm, "arm64"]] as const) {
    const index = JSON.parse(fs.readFileSync(path.join(src.layoutDir, "index.json"), "utf8")) as { manifests: { digest: string; size: number; mediaType: string }[] };
    const desc = index.manifests[0];
    if (!desc) throw new Error("umoci layout without a manifest");
    for (const blob of fs.readdirSync(path.join(src.layoutDir, "blobs", "sha256"))) {
      fs.copyFileSync(path.join(src.layoutDir, "blobs", "sha256", blob), path.join(layoutDir, "blobs", "sha256", blob));
    }
    manifests.push({ mediaType: desc.mediaType, digest: desc.digest, size: desc.size, platform: { architecture: arch, os: "linux" } });
  }
  const indexJson = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests }));
  const digest = crypto.createHash("sha256").update(indexJson).digest("hex");
  fs.writeFileSync(path.join(layoutDir, "blobs", "sha256", digest), indexJson);
  fs.writeFileSync(
    path.join(layoutDir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: "application/vnd.oci.image.index.v1+json", digest: `sha256:${digest}`, size: indexJson.length, annotations: { "org.opencontainers.image.ref.name": tag } }],
    }),
  );
  const built = { layoutDir, tag };
  cache.set(key, built);
  return built;
}

/** Pushes a built image with skopeo; returns the pushed manifest's digest. */
export async function pushImage(
  src: BuiltImage,
  dest: { registry: RunningRegistry; repo: string; tag: string; creds?: string; all?: boolean },
): Promise<{ digest: string }> {
  const digestFile = path.join(workDir(), `digest-${crypto.randomBytes(4).toString("hex")}`);
  const args = ["copy", "--quiet", "--dest-tls-verify=false", "--digestfile", digestFile];
  if (dest.all) args.push("--all");
  if (dest.creds) args.push("--dest-creds", dest.creds);
  args.push(`oci:${src.layoutDir}:${src.tag}`, `docker://${dest.registry.host}/${dest.repo}:${dest.tag}`);
  await run("skopeo", args, { maxBuffer: 16 * 1024 * 1024 });
  const digest = fs.readFileSync(digestFile, "utf8").trim();
  fs.rmSync(digestFile, { force: true });
  return { digest };
}

/** Removes the built layouts (call from a global teardown). */
export function cleanupImages(): void {
  if (root) fs.rmSync(root, { recursive: true, force: true });
  root = undefined;
  cache.clear();
}
